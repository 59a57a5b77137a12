package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// The schema is derived from the Config struct's mapstructure tags, so a field
// added to types.go is at once a file key, an environment variable and a
// validated, documented setting (tests check the example file covers it).

// kind is the type of a leaf setting.
type kind int

const (
	kindString kind = iota
	kindInt
	kindFloat
	kindBool
	kindList // []string
	kindMap  // map[string]string
)

func (k kind) String() string {
	switch k {
	case kindString:
		return "string"
	case kindInt:
		return "whole number"
	case kindFloat:
		return "number"
	case kindBool:
		return "true or false"
	case kindList:
		return "list of strings"
	case kindMap:
		return "mapping of strings"
	}
	return "unknown"
}

// field is one leaf setting.
type field struct {
	key   string // dotted: "app.shards"
	kind  kind
	index []int // reflect index path into Config
}

// EnvVar is the environment variable that sets this key.
func (f field) EnvVar() string { return EnvVarName(f.key) }

type schemaT struct {
	fields   []field          // in struct order
	byKey    map[string]field // dotted key -> field
	sections map[string]bool  // dotted keys that hold nested settings ("network", "cost.assumptions")
	children map[string][]string
}

var schema = buildSchema()

func buildSchema() *schemaT {
	s := &schemaT{byKey: map[string]field{}, sections: map[string]bool{}, children: map[string][]string{}}
	s.walk(reflect.TypeOf(Config{}), "", nil)
	for k := range s.children {
		sort.Strings(s.children[k])
	}
	return s
}

func (s *schemaT) walk(t reflect.Type, prefix string, index []int) {
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name := sf.Tag.Get("mapstructure")
		if name == "" || name == "-" {
			continue
		}
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		idx := append(append([]int(nil), index...), i)
		s.children[prefix] = append(s.children[prefix], name)
		if sf.Type.Kind() == reflect.Struct {
			s.sections[key] = true
			s.walk(sf.Type, key, idx)
			continue
		}
		var k kind
		switch {
		case sf.Type.Kind() == reflect.String:
			k = kindString
		case sf.Type.Kind() == reflect.Int:
			k = kindInt
		case sf.Type.Kind() == reflect.Float64:
			k = kindFloat
		case sf.Type.Kind() == reflect.Bool:
			k = kindBool
		case sf.Type == reflect.TypeOf([]string(nil)):
			k = kindList
		case sf.Type == reflect.TypeOf(map[string]string(nil)):
			k = kindMap
		default:
			// A programming error in types.go, caught by every test run.
			panic(fmt.Sprintf("config: field %s has unsupported type %s", key, sf.Type))
		}
		f := field{key: key, kind: k, index: idx}
		s.fields = append(s.fields, f)
		s.byKey[key] = f
	}
}

// EnvPrefix starts every environment variable wbo-deploy reads for its configuration.
const EnvPrefix = "WBO_DEPLOY_"

// EnvVarName is the environment variable for a dotted key:
// "network.vpc_cidr" -> WBO_DEPLOY_NETWORK_VPC_CIDR.
func EnvVarName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Keys lists every configuration key (dotted), in the order of the Config struct.
func Keys() []string {
	out := make([]string, len(schema.fields))
	for i, f := range schema.fields {
		out[i] = f.key
	}
	return out
}

// get reads the field's value from c as the canonical Go type of its kind.
func (f field) get(c *Config) any {
	return reflect.ValueOf(c).Elem().FieldByIndex(f.index).Interface()
}

// set stores v, which must already have the field's Go type (decode.go
// guarantees it), copying slices and maps so the Config owns its data.
func (f field) set(c *Config, v any) error {
	dst := reflect.ValueOf(c).Elem().FieldByIndex(f.index)
	switch x := v.(type) {
	case []string:
		v = append([]string{}, x...)
	case map[string]string:
		m := make(map[string]string, len(x))
		for k, val := range x {
			m[k] = val
		}
		v = m
	}
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.Type() != dst.Type() {
		return fmt.Errorf("internal error: value of type %T for %s (%s)", v, f.key, dst.Type())
	}
	dst.Set(rv)
	return nil
}
