package integration

import (
	"archive/tar"
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/subrequests/lint"
)

// A project without a .dockerignore, as most Python repositories are: the runner's /app
// gets the app and none of .git, a local .venv, a virtual environment under another name
// (any directory holding a pyvenv.cfg), __pycache__, .pytest_cache or dist/. Touching .git
// leaves the app layer cached; a ! line in .dockerignore brings dist/ back. What is left
// out is not even sent to the daemon.
func TestAppCopyLeavesOutWhatNeverBelongsInAnImage(t *testing.T) {
	t.Parallel()
	dir := project(t, "entrypoint = [\"python\", \"app.py\"]\n", map[string]string{
		"app.py":                            "import pkg.m; print(pkg.m.WORD)\n",
		"pkg/__init__.py":                   "",
		"pkg/m.py":                          "WORD = 'slim'\n",
		"pkg/__pycache__/m.cpython-311.pyc": "stale bytecode",
		".git/HEAD":                         "ref: refs/heads/main\n",
		".git/objects/ab/cdef":              "object",
		".venv/pyvenv.cfg":                  "home = /usr/bin\n",
		".venv/lib/python3.11/site-packages/x.py": "",
		"tools/env/pyvenv.cfg":                    "home = /usr/bin\n",
		"tools/env/bin/python":                    "not the image's python",
		"tools/setup.sh":                          "echo tools\n",
		".pytest_cache/v/cache/lastfailed":        "{}",
		"dist/app-1.0-py3-none-any.whl":           "a built wheel",
	})
	// A large file inside .venv: left out of the context transfer, not only of the copy.
	setFile(t, dir, ".venv/lib/python3.11/site-packages/big.so", strings.Repeat("x", 12<<20))
	o := standinBuild(t, dir)
	res := mustBuild(t, bed.BuildInProcess, o)
	wantContains(t, "output", run(t, res.Image), "slim")
	var sent int64
	for _, st := range res.Steps {
		sent += st.Transferred
	}
	if sent == 0 || sent > 1<<20 {
		t.Errorf("the build transferred %d bytes of context; want some, and none of the 12 MiB in .venv:\n%s", sent, res.Log)
	}
	for _, absent := range []string{"/app/.git", "/app/.venv", "/app/tools/env", "/app/pkg/__pycache__", "/app/.pytest_cache", "/app/dist"} {
		if res.Exists(absent) {
			t.Errorf("%s is in the runner", absent)
		}
	}
	for _, present := range []string{"/app/app.py", "/app/pkg/m.py", "/app/tools/setup.sh"} {
		readFile(t, res.Image, present)
	}

	setFile(t, dir, ".git/HEAD", "ref: refs/heads/feature\n")
	res = mustBuild(t, bed.BuildInProcess, o)
	if step, ok := res.Step("[runner] copy app"); !ok || !step.Cached {
		t.Errorf("a change inside .git re-ran the app copy:\n%s", res.Log)
	}

	// --check tells why such a context is slow to upload for other tools.
	wantEqual(t, "--check without .dockerignore", largeExcluded(t, dir), `[".venv holds 12.0 MB and the context has no .dockerignore"]`)

	setFile(t, dir, ".dockerignore", "!dist\n")
	wantEqual(t, "--check with a .dockerignore", largeExcluded(t, dir), "[]")
	res = mustBuild(t, bed.BuildInProcess, o)
	readFile(t, res.Image, "/app/dist/app-1.0-py3-none-any.whl")
	if res.Exists("/app/.git") {
		t.Errorf("the ! line brought back more than dist/")
	}
}

// largeExcluded is what --check reports as LargeExcludedDirectory for the project, each
// message up to its first colon.
func largeExcluded(t *testing.T, dir string) string {
	t.Helper()
	var results lint.LintResults
	subrequest(t, dir, "frontend.lint", &results)
	var got []string
	for _, w := range results.Warnings {
		if w.RuleName == "LargeExcludedDirectory" {
			got = append(got, strings.SplitN(w.Detail, ":", 2)[0])
		}
	}
	return fmt.Sprintf("%q", got)
}

// A .dockerignore that lists itself, as many do: what it lists still stays out of the
// runner's /app (and out of the transfer), and the files the install reads are there.
func TestDockerignoreThatListsItself(t *testing.T) {
	t.Parallel()
	dir := project(t, "requirements = \"requirements.txt\"\nentrypoint = [\"cowsay\", \"-t\", \"ignored\"]\n", map[string]string{
		".dockerignore":    ".dockerignore\nsecrets/\nnotes.md\n",
		"requirements.txt": "cowsay==6.1\n",
		"secrets/token":    "do not ship",
		"notes.md":         "private notes",
		"app.py":           "print('app')\n",
	})
	res := mustBuild(t, bed.BuildInProcess, standinBuild(t, dir))
	wantContains(t, "output", run(t, res.Image), "| ignored |")
	readFile(t, res.Image, "/app/app.py")
	for _, absent := range []string{"/app/secrets", "/app/notes.md", "/app/.dockerignore"} {
		if res.Exists(absent) {
			t.Errorf("%s is in the runner, though .dockerignore lists it", absent)
		}
	}
}

// A remote build context, a tarball over HTTP (`docker build https://host/app.tar`): acai
// reads its requirement files through dockerui's build context (the context is no local
// directory of the client's), and the app comes from the tarball.
func TestRemoteContextOverHTTP(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"Acaifile":         "python = \"3.12\"\nrequirements = \"requirements.txt\"\nentrypoint = [\"python\", \"app.py\"]\n",
		"requirements.txt": "cowsay==6.1\n",
		"app.py":           "import cowsay; print(cowsay.get_output_string('cow', 'from a tarball'))\n",
	}
	var tarball bytes.Buffer
	tw := tar.NewWriter(&tarball)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(files[name]))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(files[name])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(tarball.Bytes()) }))
	t.Cleanup(srv.Close)
	// The local directory the build also sends holds another app: the tarball must win.
	dir := project(t, files["Acaifile"], map[string]string{"requirements.txt": "PyYAML==6.0.3\n", "app.py": "print('the local directory')\n"})
	o := standinBuild(t, dir)
	o.Opts = map[string]string{"context": srv.URL + "/app.tar"}
	res := mustBuild(t, bed.BuildInProcess, o)
	wantContains(t, "output", run(t, res.Image), "from a tarball")
	wantSitePackages(t, res.Image, []string{"cowsay"}, []string{"yaml"})
}
