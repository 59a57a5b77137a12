package config

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FieldConfigFile is the Field of problems that concern the config file as a
// whole (missing, unreadable, not YAML) rather than one key in it. It is the
// name of the --config flag.
const FieldConfigFile = "config"

// FieldError is one problem with one configuration field.
type FieldError struct {
	Field   string // dotted key, e.g. "network.public_subnets[1]" or `tags["cost center"]`
	Value   string // the offending value as the user wrote it (shortened), may be empty
	Message string // what is wrong, in words a user can act on
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// ValidationError lists every problem found in a configuration. Commands
// print it and exit with ExitCode (2: invalid usage or configuration).
type ValidationError struct {
	Problems []FieldError
}

// ExitCode is the process exit code for an invalid configuration.
func (e *ValidationError) ExitCode() int { return 2 }

func (e *ValidationError) Error() string {
	switch len(e.Problems) {
	case 0:
		return "invalid configuration"
	case 1:
		return "invalid configuration: " + e.Problems[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "invalid configuration (%d problems):", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Fields returns the Field of every problem, in order.
func (e *ValidationError) Fields() []string {
	out := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p.Field
	}
	return out
}

// problems collects FieldErrors; its zero value is ready to use.
type problems struct {
	list []FieldError
}

// maxValue bounds FieldError.Value.
const maxValue = 256

// add records a problem; value is kept, shortened to maxValue characters.
func (p *problems) add(field, value, format string, args ...any) {
	if utf8.RuneCountInString(value) > maxValue {
		value = string([]rune(value)[:maxValue]) + "…"
	}
	p.list = append(p.list, FieldError{Field: field, Value: value, Message: fmt.Sprintf(format, args...)})
}

func (p *problems) has(field string) bool {
	for _, e := range p.list {
		if e.Field == field {
			return true
		}
	}
	return false
}

// err returns nil when nothing was recorded, else a *ValidationError.
func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &ValidationError{Problems: append([]FieldError(nil), p.list...)}
}

// maxShown bounds how much of a user-supplied string goes into a message, so
// a megabyte-long value does not become a megabyte-long error.
const maxShown = 64

// show renders a user-supplied string for a message: as is when it is a
// plain token, otherwise Go-quoted (spaces, control characters, unicode and
// empty strings stay visible); long values are shortened with "…".
func show(s string) string {
	cut := false
	if utf8.RuneCountInString(s) > maxShown {
		r := []rune(s)
		s = string(r[:maxShown])
		cut = true
	}
	plain := s != ""
	for _, r := range s {
		if r > unicode.MaxASCII || !unicode.IsPrint(r) || r == ' ' || r == '"' || r == '\'' || r == '\\' {
			plain = false
			break
		}
	}
	if !plain {
		s = strconv.Quote(s)
	}
	if cut {
		s += "…"
	}
	return s
}

// quote renders a user-supplied string always in quotes, shortened like show.
func quote(s string) string {
	if utf8.RuneCountInString(s) > maxShown {
		return strconv.Quote(string([]rune(s)[:maxShown])) + "…"
	}
	return strconv.Quote(s)
}

// indexField names one element of a list field: network.public_subnets[1].
func indexField(base string, i int) string { return base + "[" + strconv.Itoa(i) + "]" }

// keyField names one entry of a map field: tags.Owner, or tags["cost center"]
// when the key is not a plain identifier.
func keyField(base, key string) string {
	plain := key != "" && utf8.RuneCountInString(key) <= maxShown
	for _, r := range key {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			plain = false
			break
		}
	}
	if plain {
		return base + "." + key
	}
	return base + "[" + quote(key) + "]"
}
