package frontend

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/acai-build/acai/spec"
)

// readDir is the read phase over a directory holding files, as `acai eject` reads it.
func readDir(t *testing.T, files map[string]string) (*spec.Acaifile, *contextFiles) {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a, err := spec.Parse("Acaifile", []byte(files["Acaifile"]))
	if err != nil {
		t.Fatal(err)
	}
	a, cf, err := readInputs(context.Background(), diskContext{root: dir}, a)
	if err != nil {
		t.Fatal(err)
	}
	return a, cf
}

// The read phase reads what pip would open for each requirement file (what it includes,
// constrains with, its local projects and --find-links directories), records what the
// context lacks, and applies .python-version to the Acaifile it parsed once.
func TestReadPhaseFollowsTheRequirementFiles(t *testing.T) {
	a, cf := readDir(t, map[string]string{
		"Acaifile":            "requirements = \"requirements.txt\"\n",
		".python-version":     "3.13\n",
		"requirements.txt":    "-r base.txt\n-c constraints.txt\n./localpkg\n--find-links wheels\n",
		"base.txt":            "cowsay==6.1\n-r missing.txt\n",
		"constraints.txt":     "cowsay<7\n",
		"localpkg/setup.py":   "",
		"wheels/placeholder":  "",
		"unrelated/other.txt": "never read\n",
	})
	if a.Python != "3.13" || a.PythonFrom != spec.PythonFromVersionFile {
		t.Errorf("python %q from %q, want 3.13 from .python-version", a.Python, a.PythonFrom)
	}
	// missing.txt too: pip opens it (and fails there, at base.txt's line 2).
	want := []string{"base.txt", "constraints.txt", "localpkg", "missing.txt", "requirements.txt", "wheels"}
	if got := cf.inputs["requirements.txt"]; !slices.Equal(got, want) {
		t.Errorf("inputs of requirements.txt = %q, want %q", got, want)
	}
	if len(cf.missing) != 1 || cf.missing[0].File != "base.txt" || cf.missing[0].Line != 2 {
		t.Errorf("missing = %+v, want base.txt's line 2 (-r missing.txt)", cf.missing)
	}
	if err := cf.missingError(); err == nil || !strings.Contains(err.Error(), "missing.txt") {
		t.Errorf("missingError = %v, want one naming missing.txt", err)
	}
	if _, read := cf.data["unrelated/other.txt"]; read {
		t.Error("a file nothing names was read")
	}
}

// With nothing named to install, the read phase finds the project's lock; a uv workspace's
// members are read; the project is installed itself when it has a [build-system].
func TestReadPhaseFindsTheLockAndTheWorkspace(t *testing.T) {
	a, cf := readDir(t, map[string]string{
		"Acaifile": "entrypoint = [\"greet\"]\n",
		"pyproject.toml": "[project]\nname = \"greeter\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11,<3.14\"\n" +
			"[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n" +
			"[tool.uv.workspace]\nmembers = [\"packages/*\"]\nexclude = [\"packages/old\"]\n",
		"uv.lock": "version = 1\n[[package]]\nname = \"cowsay\"\nversion = \"6.1\"\nsource = { registry = \"https://pypi.org/simple\" }\n" +
			"wheels = [{ url = \"https://files.example/cowsay-6.1-py3-none-any.whl\", hash = \"sha256:aaa\", size = 1 }]\n" +
			"[[package]]\nname = \"greeter\"\nversion = \"0.1.0\"\nsource = { editable = \".\" }\n",
		"packages/a/pyproject.toml":   "[project]\nname = \"a\"\nversion = \"1\"\n",
		"packages/b/pyproject.toml":   "[project]\nname = \"b\"\nversion = \"1\"\n",
		"packages/old/pyproject.toml": "[project]\nname = \"old\"\nversion = \"1\"\n",
	})
	if a.Lock != spec.LockUV || a.LockFrom != "detected" {
		t.Errorf("lock %q (%q), want uv.lock detected", a.Lock, a.LockFrom)
	}
	if a.Python != "3.13" {
		t.Errorf("python %q, want 3.13 (the newest requires-python accepts)", a.Python)
	}
	p := cf.project(a)
	if !p.Installable || !slices.Equal(p.Members, []string{"packages/a", "packages/b"}) || !slices.Equal(p.LockIndexes, []string{"https://pypi.org/simple"}) {
		t.Errorf("project = installable %v, members %q, indexes %q; want installable, packages/a and packages/b (not packages/old), PyPI", p.Installable, p.Members, p.LockIndexes)
	}
	if got := string(p.LockHashedRequirements); got != "cowsay==6.1 --hash=sha256:aaa\n" {
		t.Errorf("the lock's package lines = %q", got)
	}
}

// A poetry.lock found beside its pyproject.toml is exported as requirement lines in the
// read phase, the same for a build and for acai eject.
func TestReadPhaseExportsAPoetryLock(t *testing.T) {
	files := map[string]string{"Acaifile": "entrypoint = [\"poetryapp\"]\n"}
	for _, name := range []string{"poetry.lock", "pyproject.toml"} {
		dt, err := os.ReadFile(filepath.Join("../spec/testdata/poetry", name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = string(dt)
	}
	a, cf := readDir(t, files)
	if a.LockKind() != spec.LockPoetry {
		t.Fatalf("lock %q, want poetry.lock detected", a.Lock)
	}
	if p := cf.project(a); !strings.Contains(string(p.LockRequirements), "==") {
		t.Errorf("the poetry.lock's requirement lines = %q", p.LockRequirements)
	}
}
