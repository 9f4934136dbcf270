package frontend

import (
	"strings"
	"testing"
)

// The context's transfer leaves out acai's default exclusions, except what the install
// reads; the context's own ignore file comes last, so it decides over both.
func TestTransferExcludes(t *testing.T) {
	cf := &contextFiles{
		data:         map[string][]byte{"requirements.txt": nil, ".dockerignore": nil},
		inputs:       map[string][]string{"requirements.txt": {"requirements.txt", "dist"}},
		dockerignore: []byte("# mine\nsecrets/\n!.git\n"),
	}
	got, err := cf.transferExcludes([]string{"**/.git", "**/.venv", "dist", "!.git"})
	if err != nil {
		t.Fatal(err)
	}
	want := "**/.git **/.venv dist !.git !.dockerignore !dist !requirements.txt secrets !.git"
	if strings.Join(got, " ") != want {
		t.Errorf("transfer excludes = %q\nwant %q", strings.Join(got, " "), want)
	}
}
