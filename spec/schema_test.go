package spec

import (
	"bytes"
	"os"
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
