package integration

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acai-build/acai/integration/testbed"
	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/frontend/subrequests/targets"
)

// syntaxBuild writes an Acaifile whose first line names the frontend image and builds
// it the user's way; it returns buildctl's output and error.
func syntaxBuild(t *testing.T, body string, files map[string]string) (string, error) {
	t.Helper()
	dir := project(t, bed.WithSyntax("# syntax=acai/frontend\n"+body), files)
	res, err := bed.BuildWithBuildctl(testContext(t), standinBuild(t, dir))
	return res.Log, err
}

// A validation error reaches the user through BuildKit with the Acaifile line shown.
func TestValidationErrorShowsTheAcaifileLine(t *testing.T) {
	t.Parallel()
	out, err := syntaxBuild(t, "python = \"3.12\"\npyton = \"3.12\"\n", nil)
	if err == nil {
		t.Fatalf("a misspelled key built:\n%s", out)
	}
	wantContains(t, "buildctl output", out, "Acaifile:3:1: unknown key `pyton` at the top level; did you mean `python`?", `>>> pyton = "3.12"`)
}

// A failing step is reported with the Acaifile line that asked for it.
func TestFailingStepsPointAtTheirAcaifileLines(t *testing.T) {
	t.Parallel()
	out, err := syntaxBuild(t, "python = \"3.12\"\n\npackages = [\"no-such-project==1.0\"]\n", nil)
	if err == nil {
		t.Fatalf("an uninstallable requirement built:\n%s", out)
	}
	// The resolution for the target is the first step to find out.
	wantContains(t, "pip failure", out, "[resolve] resolve no-such-project==1.0 for musllinux_1_2_x86_64, CPython 3.12", "no-such-project was not found in the package registry", `>>> packages = ["no-such-project==1.0"]`)

	out, err = syntaxBuild(t, "python = \"3.12\"\napk = [\"no-such-package\"]\n", nil)
	if err == nil {
		t.Fatalf("an unknown apk package built:\n%s", out)
	}
	wantContains(t, "apk failure", out, "no-such-package (no such package)", `>>> apk = ["no-such-package"]`)

	out, err = syntaxBuild(t, "requirements = \"requirements.txt\"\n", nil)
	if err == nil {
		t.Fatalf("a missing requirement file built:\n%s", out)
	}
	wantContains(t, "missing file", out, `Acaifile:2:16: requirement file "requirements.txt" is not in the build context`, `>>> requirements = "requirements.txt"`)
}

// --check: every rule, each at its line. Normal builds show the same findings as warnings.
func TestCheckReportsEveryRule(t *testing.T) {
	t.Parallel()
	// The same Acaifile the spec's lint unit test checks.
	dir := t.TempDir()
	if err := testbed.CopyDir(filepath.Join(bed.Repo, "spec/testdata/every-rule"), dir); err != nil {
		t.Fatal(err)
	}
	var results lint.LintResults
	res := subrequest(t, dir, "frontend.lint", &results)
	got := map[string][]int{}
	for _, w := range results.Warnings {
		got[w.RuleName] = append(got[w.RuleName], int(w.Location.Ranges[0].Start.Line))
		// A finding in a requirement file is located in that file, not the Acaifile.
		if file := results.Sources[w.Location.SourceIndex].Filename; strings.Contains(w.Detail, "requirements.txt:") != (file == "requirements.txt") && w.RuleName == "UnpinnedRequirement" {
			t.Errorf("%s %q is located in %s", w.RuleName, w.Detail, file)
		}
	}
	want := map[string][]int{
		"UnpinnedRequirement": {4, 3}, "DevPackageAtRuntime": {5, 5}, "RunsAsRoot": {6},
		"EndOfLifeBase": {2}, "DuplicatePackage": {4, 5}, "NoDepsUnpinned": {8, 8}, "MissingRequirementFile": {3, 3},
	}
	wantEqual(t, "rules and lines", fmt.Sprint(got), fmt.Sprint(want))
	wantEqual(t, "status code", res.Response["result.statuscode"], "1")
	wantContains(t, "printed result", res.Response["result.txt"], "RunsAsRoot", "runs as root")

	// A normal build shows the findings as warnings.
	clean := project(t, "packages = [\"cowsay\"]\n", nil)
	build := mustBuild(t, bed.BuildInProcess, standinBuild(t, clean))
	wantContains(t, "warnings", strings.Join(build.Warnings, "\n"), `UnpinnedRequirement: "cowsay" (packages) does not pin a version; use == (line 1)`)
}

// --call outline and --call targets.
func TestOutlineAndTargets(t *testing.T) {
	t.Parallel()
	dir := project(t, "python = \"3.13\"\n", nil)
	var out outline.Outline
	res := subrequest(t, dir, "frontend.outline", &out)
	wantEqual(t, "outline target", out.Name, "runner")
	var args []string
	for _, a := range out.Args {
		args = append(args, a.Name+"="+a.Value)
	}
	wantContains(t, "outline args", strings.Join(args, " "), "PIP_INDEX_URL="+bed.Index.URL, "HTTP_PROXY=")
	wantContains(t, "printed outline", res.Response["result.txt"], "BUILD ARG", "pip.conf")

	var list targets.List
	subrequest(t, dir, "frontend.targets", &list)
	var names []string
	for _, tg := range list.Targets {
		names = append(names, fmt.Sprintf("%s(default=%v,base=%s)", tg.Name, tg.Default, tg.Base))
	}
	wantEqual(t, "targets", strings.Join(names, " "), "runner(default=true,base=python:3.13-alpine3.24) builder(default=false,base=python:3.13-alpine3.24) test(default=false,base=python:3.13-alpine3.24) wheels(default=false,base=python:3.13-alpine3.24)")
}

// subrequest asks the frontend what --check / --call ask (requestid) and decodes the
// JSON answer into v.
func subrequest(t *testing.T, dir, requestID string, v any) *testbed.Result {
	t.Helper()
	o := standinBuild(t, dir)
	o.Opts = map[string]string{"requestid": requestID}
	res := mustBuild(t, bed.BuildInProcess, o)
	if err := json.Unmarshal([]byte(res.Response["result.json"]), v); err != nil {
		t.Fatalf("no %s answer: %v (%v)", requestID, err, res.Response)
	}
	return res
}

// An Acaifile an editor saved with a UTF-8 byte order mark builds the user's way:
// BuildKit finds the `# syntax=` line behind the mark, acai skips it. A UTF-16 one
// fails with an error that names the encoding.
func TestByteOrderMark(t *testing.T) {
	t.Parallel()
	dir := project(t, "\ufeff"+bed.WithSyntax("# syntax=acai/frontend\nentrypoint = [\"python\", \"-c\", \"print('bom ok')\"]\n"), nil)
	res := mustBuild(t, bed.BuildWithBuildctl, standinBuild(t, dir))
	wantContains(t, "output", run(t, res.Image), "bom ok")

	utf16 := []byte{0xFF, 0xFE}
	for _, r := range "python = \"3.12\"\n" {
		utf16 = append(utf16, byte(r), 0)
	}
	dir = project(t, string(utf16), nil)
	_, err := bed.BuildInProcess(testContext(t), standinBuild(t, dir))
	if err == nil {
		t.Fatal("a UTF-16 Acaifile built")
	}
	wantContains(t, "error", err.Error(), "Acaifile:1:1: the Acaifile is UTF-16 encoded; it must be UTF-8")
}
