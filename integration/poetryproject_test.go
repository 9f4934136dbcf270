package integration

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acai-build/acai/integration/testbed"
)

// poetryProject copies spec/testdata/poetry, a real Poetry project: its poetry.lock was
// written by Poetry 2.5.1 against the test bed's index (its primary source), and locks
// cowsay and PyYAML for the main group and Cython for the dev group.
func poetryProject(t *testing.T, acaifile string) string {
	t.Helper()
	dir := t.TempDir()
	if err := testbed.CopyDir(filepath.Join(bed.Repo, "spec/testdata/poetry"), dir); err != nil {
		t.Fatal(err)
	}
	setFile(t, dir, "Acaifile", acaifile)
	return dir
}

// A Poetry project with no install keys in its Acaifile: the poetry.lock beside
// pyproject.toml is found, its main group installed exactly as locked (by hash, without
// resolving), each package in a layer of its own by its line of the exported lock, then
// the project itself, non-editable, with its console script. No Poetry, no uv, no dev
// group in the image; an app-code change leaves the packages' installs CACHED. The ejected Dockerfile builds the
// same.
func TestPoetryLockProject(t *testing.T) {
	t.Parallel()
	dir := poetryProject(t, "entrypoint = [\"poetryapp\"]\n")
	o := standinBuild(t, dir)
	res := mustBuild(t, bed.BuildInProcess, o)
	wantContains(t, "output", run(t, res.Image), "| poetry |")
	wantContains(t, "progress", res.Log, "[deps] cowsay 6.1", "[deps] pyyaml 6.0.3", "[deps] uv pip install --no-deps . (the project, non-editable)")
	wantSitePackages(t, res.Image, []string{"cowsay-6.1.dist-info", "pyyaml-6.0.3.dist-info", "poetryapp-0.1.0.dist-info", "poetryapp/__init__.py"},
		[]string{"cython*", "poetry*core*", "poetry/", "__editable__*", "*.pth"})
	noUVIn(t, res.Image)

	setFile(t, dir, "Dockerfile", eject(t, dir))
	ejected := o
	ejected.Filename = "Dockerfile"
	fromDockerfile := mustBuild(t, bed.BuildWithBuildctl, ejected)
	wantEqual(t, "files in /opt/venv of the ejected Dockerfile's image", tree(t, fromDockerfile.Image, "/opt/venv"), tree(t, res.Image, "/opt/venv"))

	setFile(t, dir, "src/poetryapp/__init__.py", fmt.Sprintf("import cowsay\n\n\ndef main():\n    print(cowsay.get_output_string('cow', 'changed %d'))\n", time.Now().UnixNano()))
	res = mustBuild(t, bed.BuildInProcess, o)
	wantUnchangedStepsCached(t, res, "an app-code change", "cowsay 6.1", "pyyaml 6.0.3")
	wantContains(t, "output", run(t, res.Image), "| changed ")
}

// A dependency group is selected by `build.groups`; a poetry.lock out of date with
// pyproject.toml fails at the Acaifile's lock line, saying which command refreshes it.
func TestPoetryGroupsAndStaleLock(t *testing.T) {
	t.Parallel()
	dir := poetryProject(t, "lock = \"poetry.lock\"\nentrypoint = [\"python\", \"-c\", \"import Cython; print('cython', Cython.__version__)\"]\n[build]\ngroups = [\"dev\"]\n")
	res := mustBuild(t, bed.BuildInProcess, standinBuild(t, dir))
	wantContains(t, "output", run(t, res.Image), "cython 3.3.1")

	dir = poetryProject(t, bed.WithSyntax("# syntax=acai/frontend\nlock = \"poetry.lock\"\n"))
	pyproject := readHostFile(t, filepath.Join(dir, "pyproject.toml"))
	setFile(t, dir, "pyproject.toml", strings.Replace(pyproject, `"cowsay (==6.1)"`, `"cowsay (==6.1)", "tzdata"`, 1))
	out, err := bed.BuildWithBuildctl(testContext(t), standinBuild(t, dir))
	if err == nil {
		t.Fatal("a stale poetry.lock built")
	}
	wantContains(t, "buildctl output", out.Log, "poetry.lock is out of date with pyproject.toml", "run `poetry lock`", `>>> lock = "poetry.lock"`)
}
