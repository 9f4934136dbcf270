package integration

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acai-build/acai/frontend"
	"github.com/acai-build/acai/integration/testbed"
	"github.com/acai-build/acai/spec"
	"github.com/moby/buildkit/frontend/subrequests/lint"
)

// greeterProject is a uv project with a console script, an extra and a dev group, its
// dependencies real packages from the pinned set.
var greeterProject = map[string]string{
	"pyproject.toml": `[project]
name = "greeter"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["cowsay==6.1"]

[project.optional-dependencies]
yaml = ["PyYAML==6.0.3"]

[dependency-groups]
dev = ["Cython==3.3.1"]

[project.scripts]
greet = "greeter:main"

[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"
`,
	"src/greeter/__init__.py": "import cowsay\n\ndef main():\n    print(cowsay.get_output_string('cow', 'greetings'))\n",
}

// uvProject writes the project and an Acaifile, then locks it on the host with the pinned
// uv against the loopback index (uv.lock records that index, as it records PyPI for a user).
func uvProject(t *testing.T, acaifile string) string {
	t.Helper()
	dir := project(t, acaifile, greeterProject)
	uvRun(t, dir, "lock")
	return dir
}

func uvRun(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(bed.UVBinary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "UV_INDEX_URL="+bed.Index.URL, "UV_PYTHON_DOWNLOADS=never", "UV_CACHE_DIR="+filepath.Join(bed.Cache, "uv-host-cache"), "UV_NO_PROGRESS=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("uv %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// A uv project: its dependencies installed exactly as uv.lock locks them (the selected
// extra, no dev group) in a step whose only inputs are pyproject.toml and uv.lock, then
// the project itself, non-editable, its console script on PATH. An app-code change
// re-runs only the project's install; the uv binary is in no layer.
func TestUVLockProject(t *testing.T) {
	t.Parallel()
	dir := uvProject(t, "lock = \"uv.lock\"\nentrypoint = [\"greet\"]\n[build]\nextras = [\"yaml\"]\n")
	o := standinBuild(t, dir)
	res := mustBuild(t, bed.BuildInProcess, o)
	wantContains(t, "output", run(t, res.Image), "| greetings |")
	wantContains(t, "progress", res.Log, "[deps] uv sync --locked --no-dev --no-install-project (uv.lock)", "[deps] uv pip install --no-deps . (the project, non-editable)")
	wantSitePackages(t, res.Image, []string{"greeter/__init__.py", "cowsay-6.1.dist-info", "pyyaml-6.0.3.dist-info", "greeter-0.1.0.dist-info"},
		[]string{"cython*", "__editable__*", "*.pth"})
	readFile(t, res.Image, "/opt/venv/bin/greet")
	noUVIn(t, res.Image)

	setFile(t, dir, "src/greeter/__init__.py", fmt.Sprintf("import cowsay\n\ndef main():\n    print(cowsay.get_output_string('cow', 'changed %d'))\n", time.Now().UnixNano()))
	res = mustBuild(t, bed.BuildInProcess, o)
	if step, ok := res.Step("[deps] uv sync --locked"); !ok || !step.Cached {
		t.Errorf("an app-code change re-ran the locked install:\n%s", res.Log)
	}
	if step, ok := res.Step("[deps] uv pip install --no-deps ."); !ok || step.Cached {
		t.Errorf("an app-code change did not re-install the project:\n%s", res.Log)
	}
	wantContains(t, "output", run(t, res.Image), "| changed ")
}

// A uv.lock out of date with pyproject.toml fails at the Acaifile's lock line, saying
// which command refreshes it.
func TestStaleUVLockFailsAtItsLine(t *testing.T) {
	t.Parallel()
	dir := uvProject(t, bed.WithSyntax("# syntax=acai/frontend\nlock = \"uv.lock\"\n"))
	setFile(t, dir, "pyproject.toml", strings.Replace(greeterProject["pyproject.toml"], `["cowsay==6.1"]`, `["cowsay==6.1", "tzdata==2026.6"]`, 1))
	o := standinBuild(t, dir)
	res, err := bed.BuildWithBuildctl(testContext(t), o)
	if err == nil {
		t.Fatal("a stale uv.lock built")
	}
	wantContains(t, "buildctl output", res.Log, "needs to be updated", "uv lock", `>>> lock = "uv.lock"`)
}

// With no install keys, a pyproject.toml and uv.lock in the context are the project: the
// smallest Acaifile is its entrypoint. A PEP 751 pylock.toml installs too; and uv installs
// requirement files when asked to.
func TestLockDetectionPylockAndUVForRequirements(t *testing.T) {
	t.Parallel()
	dir := uvProject(t, "entrypoint = [\"greet\"]\n")
	res := mustBuild(t, bed.BuildInProcess, standinBuild(t, dir))
	wantContains(t, "progress", res.Log, "[deps] uv sync --locked --no-dev --no-install-project (uv.lock)")
	wantContains(t, "output", run(t, res.Image), "| greetings |")

	uvRun(t, dir, "export", "--format", "pylock.toml", "--no-emit-project", "--extra", "yaml", "--output-file", "pylock.toml")
	setFile(t, dir, "Acaifile", "lock = \"pylock.toml\"\nentrypoint = [\"python\", \"-c\", \"import cowsay, yaml; print('pylock', yaml.__version__)\"]\n")
	res = mustBuild(t, bed.BuildInProcess, standinBuild(t, dir))
	wantContains(t, "progress", res.Log, "[deps] uv pip install -r pylock.toml",
		// resolved for the target too (its packages as requirement lines): all wheels, no toolchain
		"[resolve] resolve -r pylock.toml for musllinux_1_2_x86_64, CPython 3.12")
	if _, ok := res.Step("[builder] apk add"); ok {
		t.Errorf("an all-wheel pylock.toml's builder has an apk step:\n%s", res.Log)
	}
	wantContains(t, "output", run(t, res.Image), "pylock 6.0.3")
	noUVIn(t, res.Image)

	reqs := project(t, "requirements = \"requirements.txt\"\nentrypoint = [\"cowsay\", \"-t\", \"by uv\"]\n[build]\ninstaller = \"uv\"\n", map[string]string{"requirements.txt": "cowsay==6.1\n"})
	res = mustBuild(t, bed.BuildInProcess, standinBuild(t, reqs))
	wantContains(t, "progress", res.Log, "[deps] uv pip install -r requirements.txt")
	wantContains(t, "output", run(t, res.Image), "| by uv |")
}

// noUVIn fails when the image holds a uv binary anywhere.
func noUVIn(t *testing.T, img *testbed.Image) {
	t.Helper()
	filepath.WalkDir(img.Rootfs(), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (d.Name() == "uv" || d.Name() == "uvx") {
			t.Errorf("a uv binary is in the image: %s", strings.TrimPrefix(p, img.Rootfs()))
		}
		return nil
	})
}

// The ejected Dockerfile of a uv.lock project, built by BuildKit's Dockerfile frontend,
// installs the same packages and runs the same.
func TestEjectedUVProjectBuildsTheSame(t *testing.T) {
	t.Parallel()
	dir := uvProject(t, "lock = \"uv.lock\"\nentrypoint = [\"greet\"]\n")
	o := standinBuild(t, dir)
	fromAcai := mustBuild(t, bed.BuildInProcess, o)
	a, err := spec.Parse("Acaifile", []byte(readHostFile(t, filepath.Join(dir, "Acaifile"))))
	if err != nil {
		t.Fatal(err)
	}
	setFile(t, dir, "Dockerfile", frontend.EjectProject(a, frontend.Project{Installable: true}))
	o.Filename = "Dockerfile"
	fromDockerfile := mustBuild(t, bed.BuildWithBuildctl, o)
	wantEqual(t, "files in /opt/venv", tree(t, fromDockerfile.Image, "/opt/venv"), tree(t, fromAcai.Image, "/opt/venv"))
	wantEqual(t, "output", run(t, fromDockerfile.Image), run(t, fromAcai.Image))
	noUVIn(t, fromDockerfile.Image)
}

// A pyproject.toml with no lock and no install keys is installed anyway, as uv's Docker
// guide would without a lock: its dependencies (with the selected group) from
// pyproject.toml alone, then the project non-editable. --check warns that this is not
// reproducible, at the [project] line of pyproject.toml.
func TestPyprojectWithoutLock(t *testing.T) {
	t.Parallel()
	dir := project(t, "entrypoint = [\"greet\"]\n[build]\ngroups = [\"dev\"]\n", greeterProject)
	res := mustBuild(t, bed.BuildInProcess, standinBuild(t, dir))
	wantContains(t, "progress", res.Log, "[deps] uv pip install -r pyproject.toml (no lock: resolved at build time)", "[deps] uv pip install --no-deps . (the project, non-editable)")
	wantContains(t, "output", run(t, res.Image), "| greetings |")
	wantSitePackages(t, res.Image, []string{"cowsay-6.1.dist-info", "cython-3.3.1.dist-info", "greeter-0.1.0.dist-info"}, nil)
	wantContains(t, "warnings", strings.Join(res.Warnings, "\n"), "UnlockedProject: pyproject.toml is installed with no lock beside it")

	var results lint.LintResults
	subrequest(t, dir, "frontend.lint", &results)
	var got []string
	for _, w := range results.Warnings {
		got = append(got, fmt.Sprintf("%s %s:%d", w.RuleName, results.Sources[w.Location.SourceIndex].Filename, w.Location.Ranges[0].Start.Line))
	}
	wantEqual(t, "--check", strings.Join(got, ", "), "UnlockedProject pyproject.toml:1")
}

// A uv workspace: the root project depends on a member (packages/wordlib) that depends on
// cowsay. The locked install's inputs are uv.lock and every pyproject.toml of the
// workspace (uv checks the lock against them all); the root and the member are then
// installed from their sources, non-editable. A change in the member's code leaves the
// locked install CACHED.
func TestUVWorkspace(t *testing.T) {
	t.Parallel()
	dir := project(t, "entrypoint = [\"greet\"]\n", map[string]string{
		"pyproject.toml": `[project]
name = "greeter"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["wordlib"]

[project.scripts]
greet = "greeter:main"

[tool.uv.sources]
wordlib = { workspace = true }

[tool.uv.workspace]
members = ["packages/*"]

[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"
`,
		"src/greeter/__init__.py": "import cowsay\nimport wordlib\n\ndef main():\n    print(cowsay.get_output_string('cow', wordlib.WORD))\n",
		"packages/wordlib/pyproject.toml": `[project]
name = "wordlib"
version = "0.2.0"
requires-python = ">=3.11"
dependencies = ["cowsay==6.1"]

[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"
`,
		"packages/wordlib/src/wordlib/__init__.py": "WORD = 'workspace'\n",
	})
	uvRun(t, dir, "lock")
	o := standinBuild(t, dir)
	res := mustBuild(t, bed.BuildInProcess, o)
	wantContains(t, "progress", res.Log, "[deps] uv sync --locked --no-dev --no-install-workspace (uv.lock, 1 members)", "[deps] uv pip install --no-deps . packages/wordlib (the workspace, non-editable)")
	wantContains(t, "output", run(t, res.Image), "| workspace |")
	wantSitePackages(t, res.Image, []string{"cowsay-6.1.dist-info", "greeter-0.1.0.dist-info", "wordlib-0.2.0.dist-info", "wordlib/__init__.py"}, []string{"*.pth"})

	setFile(t, dir, "packages/wordlib/src/wordlib/__init__.py", fmt.Sprintf("WORD = 'member changed %d'\n", time.Now().UnixNano()))
	res = mustBuild(t, bed.BuildInProcess, o)
	if step, ok := res.Step("[deps] uv sync --locked"); !ok || !step.Cached {
		t.Errorf("a change in a member's code re-ran the locked install:\n%s", res.Log)
	}
	wantContains(t, "output", run(t, res.Image), "| member changed ")
}

// A uv.lock made against PyPI builds behind a mirror given the way CI systems give it
// (--build-arg PIP_INDEX_URL or UV_INDEX_URL): a lock pins versions and hashes, not where
// the files come from, so they come from the mirror, hash-checked. The mirror here is the
// loopback index: the lock is made against it, then made to record PyPI, as a user's
// does. A stale one still fails, saying to run uv lock.
func TestUVLockFromPyPIBehindAMirror(t *testing.T) {
	t.Parallel()
	pypiLock := func(t *testing.T) string {
		dir := uvProject(t, bed.WithSyntax("lock = \"uv.lock\"\nentrypoint = [\"greet\"]\n"))
		lock := readHostFile(t, filepath.Join(dir, "uv.lock"))
		setFile(t, dir, "uv.lock", strings.ReplaceAll(lock, bed.Index.Root, "https://pypi.org"))
		if !strings.Contains(readHostFile(t, filepath.Join(dir, "uv.lock")), `source = { registry = "https://pypi.org/simple" }`) {
			t.Fatalf("the lock does not record PyPI:\n%s", lock)
		}
		return dir
	}
	pipConf := filepath.Join(t.TempDir(), "pip.conf")
	setFile(t, filepath.Dir(pipConf), "pip.conf", "[global]\nindex-url = "+bed.Index.URL+"\n")
	for _, c := range []struct {
		name          string
		args, secrets map[string]string
	}{
		{"PIP_INDEX_URL", map[string]string{"PIP_INDEX_URL": bed.Index.URL}, nil},
		{"UV_INDEX_URL", map[string]string{"UV_INDEX_URL": bed.Index.URL}, nil},
		{"UV_DEFAULT_INDEX", map[string]string{"UV_DEFAULT_INDEX": bed.Index.URL}, nil},
		{"pip.conf secret", map[string]string{}, map[string]string{"pip.conf": pipConf}},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := standinBuild(t, pypiLock(t))
			o.Args, o.Secrets = c.args, c.secrets
			res := mustBuild(t, bed.BuildWithBuildctl, o)
			wantContains(t, "output", run(t, res.Image), "| greetings |")
		})
	}
	// A PEP 751 lock made against PyPI: its packages come from the mirror by hash, not
	// from the file URLs it records (files.pythonhosted.org, unreachable behind a mirror).
	t.Run("pylock.toml", func(t *testing.T) {
		dir := uvProject(t, bed.WithSyntax("lock = \"pylock.toml\"\nentrypoint = [\"python\", \"-c\", \"import cowsay; print('pylock from the mirror')\"]\n"))
		uvRun(t, dir, "export", "--format", "pylock.toml", "--no-emit-project", "--output-file", "pylock.toml")
		lock := strings.ReplaceAll(readHostFile(t, filepath.Join(dir, "pylock.toml")), bed.Index.Root, "https://pypi.org")
		if !strings.Contains(lock, `index = "https://pypi.org/simple"`) {
			t.Fatalf("the pylock.toml records no PyPI index:\n%s", lock)
		}
		setFile(t, dir, "pylock.toml", lock)
		o := standinBuild(t, dir)
		o.Args = map[string]string{"PIP_INDEX_URL": bed.Index.URL}
		res := mustBuild(t, bed.BuildWithBuildctl, o)
		wantContains(t, "progress", res.Log, "[deps] write acai-pylock-hashed.txt", "[deps] uv pip install -r pylock.toml")
		wantContains(t, "output", run(t, res.Image), "pylock from the mirror")
	})
	t.Run("stale", func(t *testing.T) {
		dir := pypiLock(t)
		setFile(t, dir, "pyproject.toml", strings.Replace(greeterProject["pyproject.toml"], `["cowsay==6.1"]`, `["cowsay==6.1", "tzdata==2026.6"]`, 1))
		res, err := bed.BuildWithBuildctl(testContext(t), standinBuild(t, dir))
		if err == nil {
			t.Fatal("a stale uv.lock built")
		}
		wantContains(t, "buildctl output", res.Log, "needs to be updated", `>>> lock = "uv.lock"`)
		if strings.Contains(res.Log, "import configparser") {
			t.Errorf("the error carries uvsettings.py's text:\n%s", res.Log)
		}
	})
}
