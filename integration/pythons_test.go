package integration

import (
	"strings"
	"testing"
)

// Every Python that has an official Alpine image, from the day it ships: acai's version
// table (spec/pythons.toml) gives the default Alpine pairing, warnings and hints, and is
// no gate. Here the registry is the test bed's: an image "exists" when the test gives
// the stand-in as its named build context, as a registry mirror would serve it, and does
// not when no stand-in is given (buildkitd then tries docker.io, which nothing here reaches).

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
	o.Contexts = nil // no stand-in: python:3.17-alpine is in no registry here
	res, err := bed.BuildWithBuildctl(testContext(t), o)
	if err == nil {
		t.Fatal("python = \"3.17\" built with no image for it")
	}
	wantContains(t, "buildctl output", res.Log,
		"Acaifile:2:10: python:3.17-alpine could not be resolved: Python 3.17 is not in acai's version table",
		"use a version whose image exists, e.g. python:3.15-alpine3.24 or python:3.14-alpine3.24", `>>> python = "3.17"`)
}

// Without `python`, the project chooses, as uv does: a .python-version's patch release
// selects that release's image (python:3.15.1-alpine); without one, requires-python
// selects the newest listed Python it accepts (">=3.13": 3.15). --call plan says which
// image and where its version came from, the resolution is for that Python, and a build
// uses that image: only it has a stand-in, so any other would not resolve.
func TestPythonFromTheProject(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		files  map[string]string
		base   string
		from   string
		python string
	}{
		{".python-version", map[string]string{".python-version": "3.15.1\n"}, "python:3.15.1-alpine", ".python-version", "3.15"},
		{"requires-python", map[string]string{"pyproject.toml": "[project]\nname = \"app\"\nversion = \"1.0\"\nrequires-python = \">=3.13\"\n"},
			"python:3.15-alpine3.24", `pyproject.toml requires-python ">=3.13"`, "3.15"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := project(t, "packages = [\"cowsay==6.1\"]\nentrypoint = [\"cowsay\", \"-t\", \"from the project\"]\n", c.files)
			o := standinBuild(t, dir)
			if _, ok := o.Contexts[c.base]; !ok || len(o.Contexts) != 1 {
				t.Fatalf("the test bed's stand-in stands for %v, want %s", o.Contexts, c.base)
			}
			o.Opts = map[string]string{"requestid": "frontend.plan"}
			res := mustBuild(t, bed.BuildInProcess, o)
			wantContains(t, "plan", res.Response["result.txt"], "base: "+c.base+" (python from "+c.from+")",
				"resolved for musllinux_1_2_x86_64, CPython "+c.python)
			wantContains(t, "plan JSON", res.Response["result.json"], `"base": "`+c.base+`"`)

			res = mustBuild(t, bed.BuildInProcess, standinBuild(t, dir))
			wantContains(t, "output", run(t, res.Image), "from the project")
		})
	}
}
