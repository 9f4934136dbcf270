package integration

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/acai-build/acai/integration/testbed"
	"github.com/acai-build/acai/spec"
)

// Every Python that has an official Alpine image, from the day it ships: acai's version
// table (spec/pythons.toml) gives the default Alpine pairing, warnings and hints, and is
// no gate. Here the registry is the test bed's: an image "exists" when the test gives
// the stand-in as its named build context, as a registry mirror would serve it, and does
// not when its named context is a tag the loopback registry lacks.

// A Python the table does not list is tried: python = "3.16" builds on python:3.16-alpine
// with the warning UnlistedBase, and its app runs; python = "3.17", whose image the
// registry does not have, fails at the python line naming the image tried and the
// nearest images acai knows.
func TestPythonTheTableDoesNotListIsTried(t *testing.T) {
	t.Parallel()
	acaifile := "# syntax=acai/frontend\npython = \"%s\"\npackages = [\"cowsay==6.1\"]\nentrypoint = [\"cowsay\", \"-t\", \"unlisted python\"]\n"
	dir := project(t, bed.WithSyntax(strings.Replace(acaifile, "%s", "3.16", 1)), nil)
	res := mustBuild(t, bed.BuildInProcess, standinBuild(t, dir))
	wantContains(t, "progress", res.Log, "[context python:3.16-alpine] load metadata")
	wantContains(t, "warnings", strings.Join(res.Warnings, "\n"),
		"UnlistedBase: Python 3.16 is not in acai's version table (3.9, 3.10, 3.11, 3.12, 3.13, 3.14, 3.15): the build tries python:3.16-alpine")
	wantContains(t, "output", run(t, res.Image), "unlisted python")

	setFile(t, dir, "Acaifile", bed.WithSyntax(strings.Replace(acaifile, "%s", "3.17", 1)))
	o := standinBuild(t, dir)
	// The registry has no python:3.17-alpine: its named context is a tag the loopback
	// registry does not have (with no context at all, buildkitd would try docker.io).
	o.Contexts = map[string]string{"python:3.17-alpine": "docker-image://" + bed.Registry + "/acai-standin/python:3.17-alpine-absent"}
	res, err := bed.BuildWithBuildctl(testContext(t), o)
	if err == nil {
		t.Fatal("python = \"3.17\" built with no image for it")
	}
	wantContains(t, "buildctl output", res.Log,
		"Acaifile:2:10: python:3.17-alpine could not be resolved: Python 3.17 is not in acai's version table",
		"use a version whose image exists, e.g. python:3.15-alpine3.24 or python:3.14-alpine3.24", `>>> python = "3.17"`)
}

// The Python comes from the Acaifile, else the project, as uv chooses: python = "3.12.7"
// (a patch release) selects that release's image, python:3.12.7-alpine; without it, a
// .python-version's patch release does the same (python:3.15.1-alpine); without one,
// requires-python selects the newest listed Python it accepts (">=3.13": 3.15). --call
// plan says which image and where its version came from, the resolution is for that
// Python, and a build uses that image: only it has a stand-in, so any other would not
// resolve.
func TestWhereThePythonComesFrom(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		acaifile string
		files    map[string]string
		base     string
		from     string
		python   string
	}{
		{"Acaifile patch release", "python = \"3.12.7\"\n", nil, "python:3.12.7-alpine", "", "3.12"},
		{".python-version", "", map[string]string{".python-version": "3.15.1\n"}, "python:3.15.1-alpine", " (python from .python-version)", "3.15"},
		{"requires-python", "", map[string]string{"pyproject.toml": "[project]\nname = \"app\"\nversion = \"1.0\"\nrequires-python = \">=3.13\"\n"},
			"python:3.15-alpine3.24", ` (python from pyproject.toml requires-python ">=3.13")`, "3.15"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := project(t, c.acaifile+"packages = [\"cowsay==6.1\"]\nentrypoint = [\"cowsay\", \"-t\", \"python chosen\"]\n", c.files)
			o := standinBuild(t, dir)
			if _, ok := o.Contexts[c.base]; !ok || len(o.Contexts) != 1 {
				t.Fatalf("the test bed's stand-in stands for %v, want %s", o.Contexts, c.base)
			}
			o.Opts = map[string]string{"requestid": "frontend.plan"}
			res := mustBuild(t, bed.BuildInProcess, o)
			wantContains(t, "plan", res.Response["result.txt"], "base: "+c.base+c.from+"\n",
				"resolved for musllinux_1_2_x86_64, CPython "+c.python)
			wantContains(t, "plan JSON", res.Response["result.json"], `"base": "`+c.base+`"`)

			res = mustBuild(t, bed.BuildInProcess, standinBuild(t, dir))
			wantContains(t, "output", run(t, res.Image), "python chosen")
		})
	}
}

// The uv acai runs resolves for every Python the version table lists, from 3.9 to the
// newest: --call plan of a set with a pure-Python package, for each.
func TestUVResolvesForEveryListedPython(t *testing.T) {
	t.Parallel()
	for _, python := range spec.PythonVersions() {
		t.Run(python, func(t *testing.T) {
			t.Parallel()
			dir := project(t, "python = \""+python+"\"\npackages = [\"cowsay==6.1\"]\n", nil)
			o := standinBuild(t, dir)
			o.Opts = map[string]string{"requestid": "frontend.plan"}
			res := mustBuild(t, bed.BuildInProcess, o)
			wantContains(t, "plan", res.Response["result.txt"], "resolved for musllinux_1_2_x86_64, CPython "+python, "cowsay   6.1")
		})
	}
}

// python315 is a build of dir on the CPython 3.15 stand-in (Debian unstable's CPython
// 3.15.2; no Alpine) for base, the image the Acaifile leads to.
func python315(t *testing.T, dir, base string) testbed.Build {
	t.Helper()
	o := standinBuild(t, dir)
	if _, ok := o.Contexts[base]; !ok {
		t.Fatalf("the build's base image is not %s: %v", base, o.Contexts)
	}
	o.Contexts = bed.StandinFor(base)
	o.Contexts[base] = "docker-image://" + bed.Python315Standin
	return o
}

// The Lambda example on Python 3.15, the day its images ship: python = "3.15" (listed,
// so no warning), resolved for CPython 3.15's musllinux wheels, installed from real cp315
// wheels and run by a real CPython 3.15, whose handler answers as on 3.12. numpy is
// 2.5.5 here: the example's 2.4.6 publishes no cp315 wheel; the rest of its pins do.
func TestLambdaExampleOnPython315(t *testing.T) {
	t.Parallel()
	dir := example(t, "lambda")
	acaifile := readHostFile(t, filepath.Join(dir, "Acaifile"))
	reqs := readHostFile(t, filepath.Join(dir, "requirements.txt"))
	if !strings.Contains(acaifile, "python = \"3.12\"\n") || !strings.Contains(reqs, "numpy==2.4.6\n") {
		t.Fatalf("the Lambda example no longer pins python 3.12 and numpy 2.4.6: update this test")
	}
	setFile(t, dir, "Acaifile", strings.Replace(acaifile, "python = \"3.12\"", "python = \"3.15\"", 1))
	setFile(t, dir, "requirements.txt", strings.Replace(reqs, "numpy==2.4.6", "numpy==2.5.5", 1))
	res := mustBuild(t, bed.BuildInProcess, python315(t, dir, "python:3.15-alpine3.24"))
	wantContains(t, "progress", res.Log, "[resolve] resolve -r requirements.txt for musllinux_1_2_x86_64, CPython 3.15")
	if w := strings.Join(res.Warnings, "\n"); strings.Contains(w, "UnlistedBase") {
		t.Errorf("Python 3.15 is listed, yet: %s", w)
	}
	for _, so := range []string{"/var/task/numpy/_core/_multiarray_umath.cpython-315-x86_64-linux-gnu.so", "/var/task/pyarrow/lib.cpython-315-x86_64-linux-gnu.so"} {
		if !res.Exists(so) {
			t.Errorf("%s: not installed (cp315 wheels)", so)
		}
	}
	wantContains(t, "Python in the image", execIn(t, res.Image, "python", "-c", "import sys, numpy; print(sys.version.split()[0], numpy.__version__)"), "3.15.2 2.5.5")
	reply := invokeLambda(t, res, map[string]any{"records": []map[string]any{
		{"city": "Paris", "sales": 3}, {"city": "Lyon", "sales": 5}, {"city": "Paris", "sales": 4},
	}})
	wantContains(t, "response", reply, `"rows": 3`, `"sales_by_city": {"Lyon": 5, "Paris": 7}`)
}

// A uv.lock project whose pyproject.toml says requires-python = ">=3.11", with no
// .python-version and no `python`: acai picks 3.15, the newest listed Python it
// accepts, and installs the lock there: numpy (locked for Python >= 3.15 only, its cp315
// wheels) is installed and imported by CPython 3.15. The lock is made on the host (its
// CPython 3.11) with the pinned uv against the loopback index.
func TestUVLockProjectOnPython315(t *testing.T) {
	t.Parallel()
	dir := project(t, "lock = \"uv.lock\"\nentrypoint = [\"python\", \"-c\", \"import sys, numpy, cowsay; print(sys.version.split()[0], numpy.__version__, int(numpy.ones(3).sum()))\"]\n",
		map[string]string{"pyproject.toml": `[project]
name = "numbers"
version = "1.0"
requires-python = ">=3.11"
dependencies = ["cowsay==6.1", "numpy==2.5.5; python_version >= '3.15'"]
`})
	uvRun(t, dir, "lock")
	res := mustBuild(t, bed.BuildInProcess, python315(t, dir, "python:3.15-alpine3.24"))
	wantContains(t, "progress", res.Log, "[deps] cowsay 6.1", "[deps] numpy 2.5.5") // a layer each, by the lock's hashes
	wantContains(t, "output", run(t, res.Image), "3.15.2 2.5.5 3")
	if !res.Exists("/opt/venv/lib/python3.15/site-packages/numpy/_core/_multiarray_umath.cpython-315-x86_64-linux-gnu.so") {
		t.Errorf("numpy's cp315 extension is not in the venv")
	}
}
