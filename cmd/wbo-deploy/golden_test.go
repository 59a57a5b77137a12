package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != string(got) {
		t.Fatalf("%s changed; if the schema change is intended, bump the schema version or only add fields, then run go test -update\n--- got:\n%s", name, got)
	}
}

// shape keeps a JSON document's structure and stable values, replacing
// values that differ between runs (IDs, ARNs, URLs, facts in info maps).
func shape(t *testing.T, data []byte, volatile map[string]bool) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, data)
	}
	var walk func(key string, v any) any
	walk = func(key string, v any) any {
		switch x := v.(type) {
		case map[string]any:
			out := map[string]any{}
			for k, val := range x {
				if key == "info" {
					out[k] = "<" + k + ">"
					continue
				}
				out[k] = walk(k, val)
			}
			return out
		case []any:
			for i := range x {
				x[i] = walk(key, x[i])
			}
			return x
		case string:
			if volatile[key] && x != "" {
				return "<" + key + ">"
			}
		}
		return v
	}
	out, err := json.MarshalIndent(walk("", v), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

func TestPlanJSONSchemaGolden(t *testing.T) {
	c := newCLI(t)
	c.env = []string{}
	r := c.mustCode(0, "plan", "-o", "json")
	golden(t, "plan.offline.json", shape(t, []byte(r.out), map[string]bool{"cost_estimate": true}))
}

func TestStatusJSONSchemaGolden(t *testing.T) {
	c := newCLI(t)
	c.mustCode(0, "up", "--yes")
	r := c.mustCode(0, "status", "-o", "json")
	golden(t, "status.json", shape(t, []byte(r.out), map[string]bool{"id": true, "url": true, "dashboard_url": true}))
	// The keys every resource entry has.
	var doc struct {
		Resources []map[string]any `json:"resources"`
	}
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		t.Fatal(err)
	}
	for _, res := range doc.Resources {
		var keys []string
		for k := range res {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range []string{"id", "kind", "name", "status"} {
			if _, ok := res[k]; !ok {
				t.Fatalf("resource entry without %q: %v", k, keys)
			}
		}
	}
}
