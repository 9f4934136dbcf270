package spec

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

// testdata/poetry is a real Poetry project: poetry.lock was written by Poetry 2.5.1
// (`poetry lock`) against the test bed's index, which its pyproject.toml names as the
// primary source. The integration tests build the same project.
func readPoetryProject(t testing.TB) (lock, pyproject []byte) {
	t.Helper()
	lock, err := os.ReadFile("testdata/poetry/poetry.lock")
	if err != nil {
		t.Fatal(err)
	}
	pyproject, err = os.ReadFile("testdata/poetry/pyproject.toml")
	if err != nil {
		t.Fatal(err)
	}
	return lock, pyproject
}

func TestPoetryRequirements(t *testing.T) {
	lock, pyproject := readPoetryProject(t)
	a, err := Parse("Acaifile", []byte("lock = \"poetry.lock\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.PoetryRequirements(lock, pyproject)
	if err != nil {
		t.Fatal(err)
	}
	want := `# poetry.lock, exported by acai for the groups main
--extra-index-url http://127.0.0.1:38471/simple
cowsay==6.1 \
    --hash=sha256:274b1e6fc1b966d53976333eb90ac94cb07a450a700b455af9fbdf882244b30a
pyyaml==6.0.3 ; sys_platform == "linux" \
    --hash=sha256:b8bb0864c5a28024fac8a632c443c87c5aa6f215c0b126c449ae1a150412f31d \
    --hash=sha256:8dc52c23056b9ddd46818a57b78404882310fb473d63f17b07d5c40421e47f8e \
    --hash=sha256:41715c910c881bc081f1e8872880d3c650acf13dfa8214bad49ed4cede7c34ea \
    --hash=sha256:d76623373421df22fb4cf8817020cbb7ef15c725b9d5e45f17e189bfc384190f
`
	if string(got) != want {
		t.Errorf("requirements:\n%s\nwant:\n%s", got, want)
	}

	a, _ = Parse("Acaifile", []byte("lock = \"poetry.lock\"\n[build]\ngroups = [\"dev\"]\n"))
	got, err = a.PoetryRequirements(lock, pyproject)
	if err != nil || !strings.Contains(string(got), "\ncython==3.3.1 \\\n") || !strings.HasPrefix(string(got), "# poetry.lock, exported by acai for the groups main, dev\n") {
		t.Errorf("with the dev group: %v\n%s", err, got)
	}
}

// A lock made against PyPI (testdata/poetry-pypi: the same project with no source of
// its own) records no index: its packages come, by hash, from whichever index the build
// is given (a company's mirror of PyPI), and the lock is not stale.
func TestPoetryLockFromPyPIRecordsNoIndex(t *testing.T) {
	lock, err := os.ReadFile("testdata/poetry-pypi/poetry.lock")
	if err != nil {
		t.Fatal(err)
	}
	pyproject, err := os.ReadFile("testdata/poetry-pypi/pyproject.toml")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := Parse("Acaifile", []byte("lock = \"poetry.lock\"\n"))
	got, err := a.PoetryRequirements(lock, pyproject)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(got), "index-url") || !strings.Contains(string(got), "\ncowsay==6.1 \\\n") {
		t.Errorf("requirements of a PyPI lock:\n%s", got)
	}
}

// The content-hash Poetry 2.5.1 wrote is the one computed here, so a changed dependency
// is a stale lock, while a change elsewhere in pyproject.toml is not.
func TestPoetryStaleLock(t *testing.T) {
	lock, pyproject := readPoetryProject(t)
	a, _ := Parse("Acaifile", []byte("# syntax=acai/frontend\n\nlock = \"poetry.lock\"\n"))
	unrelated := strings.Replace(string(pyproject), `version = "0.1.0"`, `version = "0.2.0"`, 1)
	if _, err := a.PoetryRequirements(lock, []byte(unrelated)); err != nil {
		t.Errorf("a version bump made the lock stale: %v", err)
	}
	stale := strings.Replace(string(pyproject), `"cowsay (==6.1)"`, `"cowsay (==6.1)", "tzdata"`, 1)
	_, err := a.PoetryRequirements(lock, []byte(stale))
	if err == nil || !strings.Contains(err.Error(), "Acaifile:3:8: poetry.lock is out of date with pyproject.toml") || !strings.Contains(err.Error(), "run `poetry lock`") {
		t.Errorf("stale lock: %v", err)
	}
}

func TestPoetryLockErrors(t *testing.T) {
	lock, pyproject := readPoetryProject(t)
	a, _ := Parse("Acaifile", []byte("lock = \"poetry.lock\"\n"))
	gitSource := strings.Replace(string(lock), "[package.source]\ntype = \"legacy\"\nurl = \"http://127.0.0.1:38471/simple\"\nreference = \"testbed\"\n\n[[package]]\nname = \"cython\"",
		"[package.source]\ntype = \"git\"\nurl = \"https://example.com/cowsay.git\"\nreference = \"main\"\n\n[[package]]\nname = \"cython\"", 1)
	for _, c := range []struct {
		name            string
		lock, pyproject []byte
		want            string
	}{
		{"no lock", nil, pyproject, "Acaifile:1:8: poetry.lock is not in the build context"},
		{"no pyproject", lock, nil, "has no pyproject.toml beside it"},
		{"syntax", []byte("[[package]]\nname = \n"), pyproject, "poetry.lock:2:"},
		{"old lock", []byte("[metadata]\nlock-version = \"2.0\"\ncontent-hash = \"x\"\n"), pyproject, `poetry.lock:2:1: lock-version "2.0" records no groups and markers`},
		{"git source", []byte(gitSource), pyproject, "poetry.lock:4:1: package cowsay comes from a git source"},
	} {
		if _, err := a.PoetryRequirements(c.lock, c.pyproject); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

func TestPythonJSON(t *testing.T) {
	got := pythonJSON(map[string]any{"b": []any{int64(1), 2.0, true, nil}, "a": "é\"\n\x7f😀"})
	want := `{"a": "\u00e9\"\n\u007f\ud83d\ude00", "b": [1, 2.0, true, null]}`
	if got != want {
		t.Errorf("pythonJSON = %s, want %s", got, want)
	}
}

// FuzzPoetryRequirements: any lock and pyproject give an export or an error at a line,
// never a panic.
func FuzzPoetryRequirements(f *testing.F) {
	lock, pyproject := readPoetryProject(f)
	f.Add(lock, pyproject)
	f.Add([]byte("[[package]]\nname = \"x\"\nmarkers = {dev = 1}\ngroups = [\"main\"]\n[metadata]\nlock-version = \"2.1\"\n"), []byte("[tool.poetry.dependencies]\nx = \"*\"\n"))
	a, err := Parse("Acaifile", []byte("lock = \"poetry.lock\"\n[build]\ngroups = [\"dev\"]\n"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, lock, pyproject []byte) {
		out, err := a.PoetryRequirements(lock, pyproject)
		var se *Error
		if err != nil && !errors.As(err, &se) {
			t.Errorf("error without a position: %v", err)
		}
		if err == nil && !bytes.HasPrefix(out, []byte("# poetry.lock")) {
			t.Errorf("export without its header: %q", out)
		}
	})
}
