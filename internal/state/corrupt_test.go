package state

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// validDoc is a well-formed state document for stack wbo.
const validDoc = `{
  "schema_version": 1,
  "serial": 3,
  "stack": "wbo",
  "account": "123456789012",
  "region": "eu-west-3",
  "tool_version": "0.1.0",
  "updated_at": "2026-11-29T10:00:00Z",
  "resources": [
    {"name": "igw", "kind": "ec2.igw", "id": "igw-1", "created_at": "2026-11-29T10:00:00Z"},
    {"name": "vpc", "kind": "ec2.vpc", "id": "vpc-1", "created_at": "2026-11-29T10:00:00Z"}
  ]
}
`

func writeState(t *testing.T, content []byte) string {
	t.Helper()
	path := statePath(t)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestValidDocumentLoads(t *testing.T) {
	path := writeState(t, []byte(validDoc))
	s := mustOpen(t, path, Options{})
	if s.Serial() != 3 || len(s.All()) != 2 || s.Account() != "123456789012" {
		t.Fatalf("loaded serial %d, %d resources, account %q", s.Serial(), len(s.All()), s.Account())
	}
}

func TestUnsortedResourcesAreSortedOnLoad(t *testing.T) {
	doc := strings.Replace(validDoc, `{"name": "igw", "kind": "ec2.igw", "id": "igw-1", "created_at": "2026-11-29T10:00:00Z"},
    {"name": "vpc", "kind": "ec2.vpc", "id": "vpc-1", "created_at": "2026-11-29T10:00:00Z"}`,
		`{"name": "vpc", "kind": "ec2.vpc", "id": "vpc-1"},
    {"name": "igw", "kind": "ec2.igw", "id": "igw-1"}`, 1)
	s := mustOpen(t, writeState(t, []byte(doc)), Options{})
	all := s.All()
	if len(all) != 2 || all[0].Name != "igw" || all[1].Name != "vpc" {
		t.Fatalf("All() = %+v", all)
	}
}

// TestCorruptFilesRefusedAndUntouched: every kind of damage is refused with
// *CorruptError naming the path and the problem, the file stays byte-for-byte
// the same, and the lock is released (the next Open fails the same way, not
// with *LockedError).
func TestCorruptFilesRefusedAndUntouched(t *testing.T) {
	replace := func(old, new string) []byte {
		if !strings.Contains(validDoc, old) {
			t.Fatalf("test bug: %q not in validDoc", old)
		}
		return []byte(strings.Replace(validDoc, old, new, 1))
	}
	cases := []struct {
		name    string
		content []byte
		want    string
	}{
		{"empty", []byte{}, "empty (0 bytes)"},
		{"whitespace", []byte(" \n\t\n"), "only whitespace"},
		{"not json", []byte("stack: wbo\n"), "invalid JSON at line 1, column 1"},
		{"truncated", []byte(validDoc[:len(validDoc)/2]), "truncated"},
		{"truncated one byte", []byte(strings.TrimRight(validDoc, "\n}")), "truncated"},
		{"null", []byte("null"), "null"},
		{"array", []byte(`[{"schema_version":1}]`), "the document is a JSON array, not an object"},
		{"trailing garbage", []byte(validDoc + "{}"), "invalid JSON at line 14, column 1"},
		{"no schema", replace(`"schema_version": 1,`, ``), "schema_version is missing"},
		{"schema string", replace(`"schema_version": 1`, `"schema_version": "1"`), `schema_version is "1", not an integer`},
		{"schema zero", replace(`"schema_version": 1`, `"schema_version": 0`), "schema_version 0 is invalid"},
		{"wrong stack", replace(`"stack": "wbo"`, `"stack": "other"`), `stack is "other"`},
		{"missing stack", replace(`"stack": "wbo",`, ``), "stack is missing"},
		{"negative serial", replace(`"serial": 3`, `"serial": -1`), "serial -1 is negative"},
		{"serial string", replace(`"serial": 3`, `"serial": "3"`), "serial"},
		{"empty name", replace(`"name": "igw"`, `"name": ""`), "resources[0]: name is empty"},
		{"empty kind", replace(`"kind": "ec2.vpc"`, `"kind": ""`), `resources[1] ("vpc"): kind is empty`},
		{"empty id", replace(`"id": "vpc-1"`, `"id": ""`), `resources[1] ("vpc"): id is empty`},
		{"missing id", replace(`"id": "vpc-1", `, ``), `resources[1] ("vpc"): id is empty`},
		{"duplicate name", replace(`"name": "vpc"`, `"name": "igw"`), `resources[1] ("igw"): duplicate name, also resources[0]`},
		{"unknown field", replace(`"region"`, `"regoin"`), `unknown field "regoin"`},
		{"attrs wrong type", replace(`"id": "vpc-1",`, `"id": "vpc-1", "attrs": {"port": 80},`), "resources.attrs"},
		{"bad time", replace(`"updated_at": "2026-11-29T10:00:00Z"`, `"updated_at": "yesterday"`), "yesterday"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeState(t, c.content)
			for attempt := range 2 {
				for _, ro := range []bool{false, true} {
					_, err := Open(path, testStack, Options{ReadOnly: ro})
					var ce *CorruptError
					if !errors.As(err, &ce) {
						t.Fatalf("attempt %d (read-only %v): want *CorruptError, got %T: %v", attempt, ro, err, err)
					}
					if ce.ExitCode() != 2 || ce.Path != path {
						t.Fatalf("exit code %d, path %q", ce.ExitCode(), ce.Path)
					}
					msg := err.Error()
					if !strings.Contains(msg, path) || !strings.Contains(msg, c.want) {
						t.Fatalf("message %q lacks path or %q", msg, c.want)
					}
				}
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, c.content) {
				t.Fatalf("file modified:\nbefore %q\nafter  %q", c.content, got)
			}
			if _, err := os.Stat(path + ".lock"); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("lock file left behind after refusal: %v", err)
			}
		})
	}
}

func TestAllProblemsReportedAtOnce(t *testing.T) {
	doc := strings.Replace(strings.Replace(validDoc, `"id": "vpc-1"`, `"id": ""`, 1), `"kind": "ec2.igw"`, `"kind": ""`, 1)
	_, err := Open(writeState(t, []byte(doc)), testStack, Options{})
	if err == nil || !strings.Contains(err.Error(), `resources[0] ("igw"): kind is empty`) || !strings.Contains(err.Error(), `resources[1] ("vpc"): id is empty`) {
		t.Fatalf("want both problems, got %v", err)
	}
}

func TestDirectoryAtStatePathIsCorrupt(t *testing.T) {
	path := statePath(t)
	if err := os.MkdirAll(path, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, testStack, Options{})
	var ce *CorruptError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("got %T %v", err, err)
	}
}

func TestNewerSchemaRefusedAndUntouched(t *testing.T) {
	// A future file may carry fields this version does not know: it must be
	// reported as newer, not as corrupt.
	doc := []byte(strings.Replace(validDoc, `"schema_version": 1,`, `"schema_version": 2, "lineage": "abc",`, 1))
	path := writeState(t, doc)
	for _, ro := range []bool{false, true} {
		_, err := Open(path, testStack, Options{ReadOnly: ro})
		var se *SchemaError
		if !errors.As(err, &se) {
			t.Fatalf("want *SchemaError, got %T: %v", err, err)
		}
		if se.Found != 2 || se.Supported != SchemaVersion || se.ExitCode() != 2 {
			t.Fatalf("SchemaError = %+v", se)
		}
		if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "upgrade wbo-deploy") {
			t.Fatalf("message: %v", err)
		}
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, doc) {
		t.Fatal("newer-schema file was modified")
	}
}

func TestIdentityMismatchRefusedWithoutModification(t *testing.T) {
	for _, c := range []struct{ name, account, region string }{
		{"other account", "210987654321", "eu-west-3"},
		{"other region", "123456789012", "us-east-1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeState(t, []byte(validDoc))
			s := mustOpen(t, path, Options{})
			err := s.Bind(c.account, c.region)
			var ie *IdentityError
			if !errors.As(err, &ie) {
				t.Fatalf("want *IdentityError, got %T: %v", err, err)
			}
			if ie.ExitCode() != 2 || ie.RecordedAccount != "123456789012" || ie.RecordedRegion != "eu-west-3" {
				t.Fatalf("IdentityError = %+v", ie)
			}
			for _, want := range []string{path, "123456789012", "eu-west-3", c.account, c.region} {
				if !strings.Contains(err.Error(), want) {
					t.Fatalf("message %q lacks %q", err, want)
				}
			}
			if s.Account() != "123456789012" || s.Region() != "eu-west-3" {
				t.Fatalf("identity overwritten in memory: %s %s", s.Account(), s.Region())
			}
			// Even a caller that ignores the error cannot write.
			if err := s.Put(res("x", "k", "1")); !errors.As(err, &ie) {
				t.Fatalf("Put after mismatch: %v", err)
			}
			if err := s.Remove("vpc"); !errors.As(err, &ie) {
				t.Fatalf("Remove after mismatch: %v", err)
			}
			_ = s.Close()
			got, _ := os.ReadFile(path)
			if string(got) != validDoc {
				t.Fatal("file modified after identity mismatch")
			}
		})
	}
}

func TestBindRecordsFirstUseAndPersistsWithNextWrite(t *testing.T) {
	path := statePath(t)
	s := mustOpen(t, path, Options{})
	if err := s.Bind("123456789012", "eu-west-3"); err != nil {
		t.Fatal(err)
	}
	if s.Exists() {
		t.Fatal("Bind alone wrote a file")
	}
	if err := s.Bind("123456789012", "eu-west-3"); err != nil {
		t.Fatalf("same identity again: %v", err)
	}
	mustPut(t, s, res("vpc", "ec2.vpc", "vpc-1"))
	if f := readDisk(t, path); f.Account != "123456789012" || f.Region != "eu-west-3" {
		t.Fatalf("identity not persisted: %+v", f)
	}
	if err := s.Bind("", "eu-west-3"); err == nil {
		t.Fatal("empty account accepted")
	}
}

func TestBindFillsMissingIdentity(t *testing.T) {
	doc := strings.Replace(validDoc, `"account": "123456789012"`, `"account": ""`, 1)
	path := writeState(t, []byte(doc))
	s := mustOpen(t, path, Options{})
	if err := s.Bind("123456789012", "eu-west-3"); err != nil {
		t.Fatal(err)
	}
	if err := s.Bind("999999999999", "eu-west-3"); err == nil {
		t.Fatal("second, different account accepted after first Bind")
	}
}
