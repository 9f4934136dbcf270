package spec

import (
	"slices"
	"testing"
)

func TestAppExcludes(t *testing.T) {
	a, err := Parse("Acaifile", []byte("app = [\"app/\", \"dist/\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := a.AppExcludes([]string{"env", "tools/venv"}, []string{"*.log", "!dist/keep.txt", "!.pytest_cache"})
	for _, want := range []string{"**/.git", "**/.venv", "**/__pycache__", "build", "env", "tools/venv", "!dist/keep.txt", "!.pytest_cache"} {
		if !slices.Contains(got, want) {
			t.Errorf("%q is not excluded: %q", want, got)
		}
	}
	if slices.Contains(got, "dist") || slices.Contains(got, "*.log") {
		t.Errorf("dist (named in app) or a plain .dockerignore line is in %q", got)
	}
	if i, j := slices.Index(got, "**/.pytest_cache"), slices.Index(got, "!.pytest_cache"); i > j {
		t.Errorf("a ! line must come after the default it overrides: %q", got)
	}
}
