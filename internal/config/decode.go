package config

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file turns loosely typed input (YAML values, environment strings,
// flag values) into the exact Go type of each setting, recording a problem
// naming the field for anything that does not fit. It never panics: every
// type assertion is checked.

// fileValues walks a decoded YAML document against the schema and returns
// the settings it holds, keyed by dotted key. Unknown keys and wrong types
// are recorded in p.
func fileValues(root any, p *problems) map[string]any {
	out := map[string]any{}
	if root == nil {
		return out // empty file
	}
	m, ok := toStringMap(root)
	if !ok {
		p.add(FieldConfigFile, "", "the file must be a mapping of keys such as \"stack: wbo\", got %s", describe(root))
		return out
	}
	walkSection("", m, out, p)
	return out
}

// maxCollection bounds lists and maps in the file (no setting needs more
// than a hundred entries), so a hostile file cannot produce a million problems.
const maxCollection = 1000

// maxUnknownKeys bounds the unknown keys reported per section.
const maxUnknownKeys = 20

func walkSection(prefix string, m map[string]any, out map[string]any, p *problems) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	unknown := 0
	for _, k := range keys {
		raw := m[k]
		full := joinKey(prefix, k)
		if strings.Contains(k, ".") {
			// "app.shards: 3" would otherwise alias app: {shards: 3}; one spelling only.
			p.add(unknownField(prefix, k), k, "key %s contains \".\"; write nested keys as a mapping (app: {shards: 2})", quote(k))
			continue
		}
		if f, ok := schema.byKey[full]; ok {
			if raw == nil {
				continue // "key:" with no value: the default applies
			}
			if v, ok := fromYAML(f, raw, p); ok {
				out[full] = v
			}
			continue
		}
		if schema.sections[full] {
			if raw == nil {
				continue
			}
			sub, ok := toStringMap(raw)
			if !ok {
				p.add(full, "", "must be a mapping of settings (%s), got %s", strings.Join(schema.children[full], ", "), describe(raw))
				continue
			}
			walkSection(full, sub, out, p)
			continue
		}
		unknown++
		if unknown > maxUnknownKeys {
			continue
		}
		p.add(unknownField(prefix, k), k, "unknown key %s%s", show(k), suggest(prefix, k))
	}
	if unknown > maxUnknownKeys {
		where, field := "at the top level", FieldConfigFile
		if prefix != "" {
			where, field = "in "+prefix, prefix
		}
		p.add(field, "", "and %d more unknown keys %s; is this a wbo-deploy config file?", unknown-maxUnknownKeys, where)
	}
}

// unknownField names an unknown key for the problem list; keys that are not
// plain identifiers are quoted so the field name stays readable.
func unknownField(prefix, k string) string {
	if prefix == "" {
		f := keyField("", k)
		return strings.TrimPrefix(f, ".")
	}
	return keyField(prefix, k)
}

// toStringMap accepts both map shapes YAML decoding produces. Keys that are
// not strings (`1: x`, `true: x`) are turned into their text so they can be
// reported as unknown keys by name.
func toStringMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, val := range m {
			out[scalarText(k)] = val
		}
		return out, true
	}
	return nil, false
}

// scalarText is the text of a YAML scalar key.
func scalarText(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

// describe names the YAML type of a value for an error message.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "nothing (null)"
	case string:
		return "string " + quote(x)
	case bool:
		return strconv.FormatBool(x)
	case int, int64, uint64, uint, int32:
		return fmt.Sprintf("number %d", x)
	case float64:
		return "number " + strconv.FormatFloat(x, 'g', -1, 64)
	case []any:
		return "a list"
	case map[string]any, map[any]any:
		return "a mapping"
	case time.Time:
		return "the date " + x.Format(time.RFC3339)
	}
	return fmt.Sprintf("a value of type %T", v)
}

// fromYAML converts one YAML value to the field's Go type.
func fromYAML(f field, raw any, p *problems) (any, bool) {
	switch f.kind {
	case kindString:
		if s, ok := raw.(string); ok {
			return s, true
		}
		hint := ""
		switch raw.(type) {
		case int, int64, uint64, float64, bool, time.Time:
			hint = " (put the value in quotes)"
		}
		p.add(f.key, scalarText(raw), "must be a string, got %s%s", describe(raw), hint)
	case kindInt:
		n, msg := yamlInt(raw)
		if msg == "" {
			return n, true
		}
		p.add(f.key, scalarText(raw), "%s", msg)
	case kindFloat:
		switch x := raw.(type) {
		case int:
			return float64(x), true
		case int64:
			return float64(x), true
		case uint64:
			return float64(x), true
		case float64:
			return x, true
		}
		p.add(f.key, scalarText(raw), "must be a number, got %s", describe(raw))
	case kindBool:
		if b, ok := raw.(bool); ok {
			return b, true
		}
		p.add(f.key, scalarText(raw), "must be true or false, got %s", describe(raw))
	case kindList:
		items, ok := raw.([]any)
		if !ok {
			p.add(f.key, "", "must be a list such as [a, b], got %s", describe(raw))
			return nil, false
		}
		if len(items) > maxCollection {
			p.add(f.key, "", "has %d items; no setting takes more than %d", len(items), maxCollection)
			return nil, false
		}
		out := make([]string, 0, len(items))
		good := true
		for i, it := range items {
			s, ok := it.(string)
			if !ok {
				hint := ""
				switch it.(type) {
				case int, int64, uint64, float64, bool, time.Time:
					hint = " (put the value in quotes)"
				}
				p.add(indexField(f.key, i), scalarText(it), "must be a string, got %s%s", describe(it), hint)
				good = false
				continue
			}
			out = append(out, s)
		}
		return out, good
	case kindMap:
		m, ok := toStringMap(raw)
		if !ok {
			p.add(f.key, "", "must be a mapping of KEY: value pairs, got %s", describe(raw))
			return nil, false
		}
		if len(m) > maxCollection {
			p.add(f.key, "", "has %d entries; no setting takes more than %d", len(m), maxCollection)
			return nil, false
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make(map[string]string, len(m))
		good := true
		for _, k := range keys {
			switch x := m[k].(type) {
			case nil:
				out[k] = ""
			case string:
				out[k] = x
			case int, int64, uint64, bool:
				out[k] = scalarText(x)
			default:
				hint := ""
				if _, isFloat := x.(float64); isFloat {
					hint = " (put the value in quotes to keep it exactly as written)"
				}
				p.add(keyField(f.key, k), "", "must be a string, got %s%s", describe(x), hint)
				good = false
			}
		}
		return out, good
	}
	return nil, false
}

// yamlInt converts a YAML number to int; msg explains a failure.
func yamlInt(raw any) (int, string) {
	switch x := raw.(type) {
	case int:
		return x, ""
	case int64:
		if x < math.MinInt || x > math.MaxInt {
			return 0, fmt.Sprintf("number %d is out of range", x)
		}
		return int(x), ""
	case uint64:
		if x > math.MaxInt {
			return 0, fmt.Sprintf("number %d is out of range", x)
		}
		return int(x), ""
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, fmt.Sprintf("must be a whole number, got %s", describe(x))
		}
		if x != math.Trunc(x) {
			return 0, fmt.Sprintf("must be a whole number, got %s", describe(x))
		}
		if x < -(1<<53) || x > 1<<53 {
			return 0, fmt.Sprintf("number %s is out of range", strconv.FormatFloat(x, 'g', -1, 64))
		}
		return int(x), ""
	}
	return 0, fmt.Sprintf("must be a whole number, got %s", describe(raw))
}

// fromString parses a setting given as text (environment variable or a
// string flag value). Lists are comma-separated (a,b); maps are k=v,k2=v2.
// The returned message is empty on success.
func fromString(f field, s string) (any, string) {
	switch f.kind {
	case kindString:
		return s, ""
	case kindInt:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return nil, fmt.Sprintf("number %s is out of range", show(s))
			}
			return nil, fmt.Sprintf("must be a whole number, got %s", show(s))
		}
		return n, ""
	case kindFloat:
		x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, fmt.Sprintf("must be a number, got %s", show(s))
		}
		return x, ""
	case kindBool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Sprintf("must be true or false, got %s", show(s))
		}
		return b, ""
	case kindList:
		parts := strings.Split(s, ",")
		out := make([]string, 0, len(parts))
		for i, part := range parts {
			part = strings.TrimSpace(part)
			if part == "" {
				return nil, fmt.Sprintf("item %d of the comma-separated list %s is empty", i+1, show(s))
			}
			out = append(out, part)
		}
		return out, ""
	case kindMap:
		out := map[string]string{}
		for i, part := range strings.Split(s, ",") {
			k, v, ok := strings.Cut(part, "=")
			k = strings.TrimSpace(k)
			if !ok || k == "" {
				return nil, fmt.Sprintf("item %d of %s is not KEY=VALUE (use k=v,k2=v2)", i+1, show(s))
			}
			if _, dup := out[k]; dup {
				return nil, fmt.Sprintf("key %s appears twice in %s", show(k), show(s))
			}
			out[k] = strings.TrimSpace(v)
		}
		return out, ""
	}
	return nil, "unsupported setting type"
}

// envValues reads WBO_DEPLOY_<KEY> for every schema key (and AWS_REGION /
// AWS_DEFAULT_REGION for region) from env, a list of KEY=VALUE strings. An
// empty value counts as unset. A WBO_DEPLOY_ variable that names no key is an
// error, as an unknown key in the file is (a typo never goes unnoticed);
// other variables belong to other tools and are not ours to judge.
func envValues(env []string, p *problems) map[string]any {
	vars := map[string]string{}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if ok && k != "" {
			vars[k] = v // a later duplicate wins, as with os.Getenv
		}
	}
	known := map[string]string{}
	for _, f := range schema.fields {
		known[f.EnvVar()] = f.key
	}
	var names []string
	for k := range vars {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !strings.HasPrefix(k, EnvPrefix) || known[k] != "" {
			continue
		}
		key := strings.ToLower(strings.TrimPrefix(k, EnvPrefix))
		hint := ""
		best, bestDist := "", 1<<30
		for name := range known {
			if d := editDistance(k, name); d < bestDist || (d == bestDist && name < best) {
				best, bestDist = name, d
			}
		}
		if best != "" && bestDist <= maxTypoDistance(key) {
			hint = fmt.Sprintf(" (did you mean %s?)", best)
		}
		p.add("env."+k, vars[k], "unknown environment variable %s: no configuration key is named %s%s", k, show(key), hint)
	}
	out := map[string]any{}
	for _, f := range schema.fields {
		name := f.EnvVar()
		raw := vars[name]
		if raw == "" && f.key == "region" {
			// The standard AWS variables, in the AWS CLI's order.
			for _, alt := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
				if vars[alt] != "" {
					name, raw = alt, vars[alt]
					break
				}
			}
		}
		if raw == "" {
			continue
		}
		v, msg := fromString(f, raw)
		if msg != "" {
			p.add(f.key, raw, "%s (from environment variable %s)", msg, name)
			continue
		}
		out[f.key] = v
	}
	return out
}

// overrideValues checks flag overrides: dotted schema keys with values that
// are either the setting's Go type or a string in the environment syntax.
func overrideValues(ov map[string]any, p *problems) map[string]any {
	out := map[string]any{}
	keys := make([]string, 0, len(ov))
	for k := range ov {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		raw := ov[k]
		f, ok := schema.byKey[k]
		if !ok {
			p.add(unknownField("", k), "", "unknown configuration key %s%s (from the command line)", show(k), suggest("", k))
			continue
		}
		if raw == nil {
			continue
		}
		v, msg := fromOverride(f, raw)
		if msg != "" {
			p.add(f.key, fmt.Sprint(raw), "%s (from the command line)", msg)
			continue
		}
		out[k] = v
	}
	return out
}

func fromOverride(f field, raw any) (any, string) {
	if s, ok := raw.(string); ok && f.kind != kindString {
		return fromString(f, s)
	}
	switch f.kind {
	case kindString:
		if s, ok := raw.(string); ok {
			return s, ""
		}
	case kindInt:
		switch x := raw.(type) {
		case int:
			return x, ""
		case int64:
			if n, msg := yamlInt(x); msg == "" {
				return n, ""
			}
		case int32:
			return int(x), ""
		}
	case kindFloat:
		switch x := raw.(type) {
		case float64:
			return x, ""
		case float32:
			return float64(x), ""
		case int:
			return float64(x), ""
		}
	case kindBool:
		if b, ok := raw.(bool); ok {
			return b, ""
		}
	case kindList:
		if l, ok := raw.([]string); ok {
			return append([]string{}, l...), ""
		}
	case kindMap:
		if m, ok := raw.(map[string]string); ok {
			return m, ""
		}
	}
	return nil, fmt.Sprintf("must be a %s, got %T", f.kind, raw)
}
