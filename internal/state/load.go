package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// maxProblems caps how many problems one CorruptError lists.
const maxProblems = 10

// decode parses and validates a state document for stack.
func decode(path, stack string, data []byte) (File, error) {
	corrupt := func(problem string, err error) (File, error) {
		return File{}, &CorruptError{Path: path, Problem: problem, Err: err}
	}
	if len(data) == 0 {
		return corrupt("the file is empty (0 bytes)", nil)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return corrupt("the file contains only whitespace", nil)
	}
	// First the schema version alone, so that a newer file (which may have
	// fields this version does not know) is reported as newer, not as corrupt.
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return corrupt(describeJSONError(data, err), err)
	}
	if top == nil {
		return corrupt("the document is null, not a JSON object", nil)
	}
	raw, ok := top["schema_version"]
	if !ok {
		return corrupt("schema_version is missing", nil)
	}
	var version int
	if err := json.Unmarshal(raw, &version); err != nil {
		return corrupt(fmt.Sprintf("schema_version is %s, not an integer", raw), err)
	}
	if version > SchemaVersion {
		return File{}, &SchemaError{Path: path, Found: version, Supported: SchemaVersion}
	}
	if version < 1 {
		return corrupt(fmt.Sprintf("schema_version %d is invalid (the first version is 1)", version), nil)
	}

	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields() // a hand edit with a typo must not be silently dropped
	var f File
	if err := dec.Decode(&f); err != nil {
		return corrupt(describeJSONError(data, err), err)
	}
	if problems := validate(f, stack); len(problems) > 0 {
		if len(problems) > maxProblems {
			problems = append(problems[:maxProblems], fmt.Sprintf("and %d more", len(problems)-maxProblems))
		}
		return corrupt(strings.Join(problems, "; "), nil)
	}
	sortResources(f.Resources)
	return f, nil
}

// validate lists everything wrong with a decoded file.
func validate(f File, stack string) []string {
	var problems []string
	switch {
	case f.Stack == "":
		problems = append(problems, "stack is missing")
	case f.Stack != stack:
		problems = append(problems, fmt.Sprintf("stack is %q, but this run is for stack %q (wrong --state file?)", f.Stack, stack))
	}
	if f.Serial < 0 {
		problems = append(problems, fmt.Sprintf("serial %d is negative", f.Serial))
	}
	seen := make(map[string]int, len(f.Resources))
	for i, r := range f.Resources {
		where := fmt.Sprintf("resources[%d]", i)
		if r.Name == "" {
			problems = append(problems, where+": name is empty")
		} else {
			where = fmt.Sprintf("resources[%d] (%q)", i, r.Name)
			if j, dup := seen[r.Name]; dup {
				problems = append(problems, fmt.Sprintf("%s: duplicate name, also resources[%d]", where, j))
			} else {
				seen[r.Name] = i
			}
		}
		if r.Kind == "" {
			problems = append(problems, where+": kind is empty")
		}
		if r.ID == "" {
			problems = append(problems, where+": id is empty")
		}
	}
	return problems
}

func sortResources(rs []Resource) {
	sort.Slice(rs, func(i, j int) bool { return rs[i].Name < rs[j].Name })
}

// describeJSONError turns a decode error into a sentence with a line and
// column, so a user can find the damage in an editor.
func describeJSONError(data []byte, err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := position(data, syn.Offset)
		if syn.Offset >= int64(len(data)) || strings.Contains(syn.Error(), "unexpected end") {
			return fmt.Sprintf("truncated or incomplete JSON (ends at line %d, column %d)", line, col)
		}
		return fmt.Sprintf("invalid JSON at line %d, column %d: %s", line, col, syn.Error())
	case errors.As(err, &typ):
		if typ.Field == "" {
			return fmt.Sprintf("the document is a JSON %s, not an object", typ.Value)
		}
		line, col := position(data, typ.Offset)
		field := typ.Field
		return fmt.Sprintf("%s has the wrong type at line %d, column %d: expected %s, found JSON %s", field, line, col, typ.Type, typ.Value)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// position gives the 1-based line and column of the last byte the decoder
// read (encoding/json offsets count the bytes read before the error).
func position(data []byte, offset int64) (line, col int) {
	p := min(max(offset-1, 0), int64(len(data)))
	before := data[:p]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(p) - bytes.LastIndexByte(before, '\n')
	return line, col
}
