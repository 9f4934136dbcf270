// Package schema checks the shipped JSON Schema (schema/acaifile.schema.json) the way a
// TOML editor uses it: against every example Acaifile, and against broken ones.
package schema

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

func compile(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("../../schema/acaifile.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("acaifile.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("acaifile.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// asJSON reads an Acaifile as an editor's TOML tooling does: a document of JSON values.
func asJSON(t *testing.T, acaifile []byte) any {
	t.Helper()
	var doc map[string]any
	if err := toml.Unmarshal(acaifile, &doc); err != nil {
		t.Fatal(err)
	}
	dt, _ := json.Marshal(doc)
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(dt))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSchemaAcceptsEveryExample(t *testing.T) {
	s := compile(t)
	files, _ := filepath.Glob("../../examples/*/Acaifile")
	if len(files) < 3 {
		t.Fatalf("found %d example Acaifiles", len(files))
	}
	for _, f := range files {
		dt, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(asJSON(t, dt)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestSchemaRejectsBrokenAcaifiles(t *testing.T) {
	s := compile(t)
	for name, src := range map[string]string{
		"misspelled key":       "pyton = \"3.12\"\n",
		"python not a version": "python = \"3.x\"\n",
		"wrong type":           "apk = \"libstdc++\"\n",
		"empty entrypoint":     "entrypoint = []\n",
		"port out of range":    "expose = [70000]\n",
		"unknown layout":       "[runtime]\nlayout = \"conda\"\n",
		"unknown table key":    "[build]\nindex = \"https://x\"\n",
	} {
		if err := s.Validate(asJSON(t, []byte(src))); err == nil {
			t.Errorf("%s: the schema accepted %q", name, strings.TrimSpace(src))
		}
	}
}
