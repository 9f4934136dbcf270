package frontend

import (
	"strings"
	"testing"
)

// The context's transfer leaves out acai's default exclusions, except what the install
// reads; the context's own ignore patterns come last, so they decide over both.
func TestTransferExcludes(t *testing.T) {
	cf := &contextFiles{
		data:    map[string][]byte{"requirements.txt": nil, ".python-version": nil},
		inputs:  map[string][]string{"requirements.txt": {"requirements.txt", "dist"}},
		ignored: []string{".dockerignore", "secrets", "!.git"},
	}
	got := cf.transferExcludes([]string{"**/.git", "**/.venv", "dist", "!.git"})
	want := "**/.git **/.venv dist !.git !.python-version !dist !requirements.txt .dockerignore secrets !.git"
	if strings.Join(got, " ") != want {
		t.Errorf("transfer excludes = %q\nwant %q", strings.Join(got, " "), want)
	}
}
