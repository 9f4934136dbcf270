package spec

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// The shipped schema is exactly what Schema generates: run `go generate ./spec` after
// changing the spec types.
func TestShippedSchemaIsGenerated(t *testing.T) {
	shipped, err := os.ReadFile("../schema/acaifile.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(shipped, Schema()) {
		t.Fatal("schema/acaifile.schema.json is stale: run `go generate ./spec`")
	}
}

// The shipped reference is exactly what Reference generates.
func TestShippedReferenceIsGenerated(t *testing.T) {
	shipped, err := os.ReadFile("../docs/reference.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(shipped, Reference()) {
		t.Fatal("docs/reference.md is stale: run `go generate ./spec`")
	}
}

// Keys lists exactly the keys the reference documents: a table's as "table.key".
func TestKeysAreTheReferencesKeys(t *testing.T) {
	var documented []string
	table, inKeys := "", false
	for _, line := range strings.Split(string(Reference()), "\n") {
		switch {
		case line == "## Top level":
			table, inKeys = "", true
		case strings.HasPrefix(line, "## ["):
			table, inKeys = strings.Trim(strings.TrimPrefix(line, "## "), "[]")+".", true
		case strings.HasPrefix(line, "## "):
			inKeys = false
		case inKeys && strings.HasPrefix(line, "| `"):
			documented = append(documented, table+strings.Trim(strings.SplitN(line, "|", 3)[1], " `"))
		}
	}
	if got := Keys(); strings.Join(got, " ") != strings.Join(documented, " ") {
		t.Errorf("Keys() = %q\nthe reference documents %q", got, documented)
	}
}
