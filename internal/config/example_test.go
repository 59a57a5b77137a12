package config

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const examplePath = "../../config.example.yaml"

// The example file documents the built-in defaults exactly.
func TestExampleConfigEqualsDefaults(t *testing.T) {
	cfg, err := Load(LoadOptions{ConfigFile: examplePath, Env: []string{}})
	if err != nil {
		t.Fatalf("loading %s: %v", examplePath, err)
	}
	if want := Default(); !reflect.DeepEqual(*cfg, want) {
		t.Fatalf("config.example.yaml differs from Default():\n got %#v\nwant %#v", *cfg, want)
	}
}

// DeepEqual alone would pass with a key missing from the file (the default
// fills it in), so check the file spells out every key, each with a comment.
func TestExampleConfigDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	for _, key := range Keys() {
		var cur any = root
		for _, part := range strings.Split(key, ".") {
			m, ok := cur.(map[string]any)
			if !ok {
				cur = nil
				break
			}
			cur, ok = m[part]
			if !ok {
				t.Errorf("config.example.yaml lacks %s", key)
				break
			}
		}
	}
	// Every setting's line has a comment; section headings need none.
	keyLine := regexp.MustCompile(`^\s*([a-z0-9_]+):`)
	sectionNames := map[string]bool{}
	for s := range schema.sections {
		sectionNames[s[strings.LastIndex(s, ".")+1:]] = true
	}
	for i, line := range strings.Split(string(data), "\n") {
		m := keyLine.FindStringSubmatch(line)
		if m == nil || sectionNames[m[1]] {
			continue
		}
		if !strings.Contains(line, " # ") {
			t.Errorf("config.example.yaml line %d has no comment: %q", i+1, line)
		}
	}
}

func TestDefaultIsValid(t *testing.T) {
	cfg := Default()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Default() is invalid: %v", err)
	}
}
