package integration

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

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
	// As `uv init` writes it: without it, requires-python would choose the newest Python.
	".python-version": "3.12\n",
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
// extra, no dev group), each package in a layer of its own by its line of the lock (its
// hashes), then the project itself, non-editable, its console script on PATH, one layer
// more. An app-code change re-runs only the project's install; the uv binary is in no
// layer.
func TestUVLockProject(t *testing.T) {
	t.Parallel()
	dir := uvProject(t, "lock = \"uv.lock\"\nentrypoint = [\"greet\"]\n[build]\nextras = [\"yaml\"]\n")
	o := standinBuild(t, dir)
	res := mustBuild(t, bed.BuildInProcess, o)
	wantContains(t, "output", run(t, res.Image), "| greetings |")
	wantContains(t, "progress", res.Log, "[deps] cowsay 6.1", "[deps] pyyaml 6.0.3", "[deps] uv pip install --no-deps . (the project, non-editable)")
	layers := layersByHistory(t, res.Image)
	for _, h := range []string{"[deps] cowsay 6.1", "[deps] pyyaml 6.0.3", "[deps] uv pip install --no-deps . (the project, non-editable)"} {
		if _, ok := layers[h]; !ok {
			t.Errorf("no layer of its own for %q; the image's history: %v", h, keys(layers))
		}
	}
	wantSitePackages(t, res.Image, []string{"greeter/__init__.py", "cowsay-6.1.dist-info", "pyyaml-6.0.3.dist-info", "greeter-0.1.0.dist-info"},
		[]string{"cython*", "__editable__*", "*.pth"})
	readFile(t, res.Image, "/opt/venv/bin/greet")
	noUVIn(t, res.Image)

	setFile(t, dir, "src/greeter/__init__.py", fmt.Sprintf("import cowsay\n\ndef main():\n    print(cowsay.get_output_string('cow', 'changed %d'))\n", time.Now().UnixNano()))
	res = mustBuild(t, bed.BuildInProcess, o)
	wantUnchangedStepsCached(t, res, "an app-code change", "cowsay 6.1", "pyyaml 6.0.3")
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
	wantContains(t, "progress", res.Log, "[deps] cowsay 6.1", "(uv.lock) for musllinux_1_2_x86_64")
	wantContains(t, "output", run(t, res.Image), "| greetings |")

	uvRun(t, dir, "export", "--format", "pylock.toml", "--no-emit-project", "--extra", "yaml", "--output-file", "pylock.toml")
	setFile(t, dir, "Acaifile", "lock = \"pylock.toml\"\nentrypoint = [\"python\", \"-c\", \"import cowsay, yaml; print('pylock', yaml.__version__)\"]\n")
	res = mustBuild(t, bed.BuildInProcess, standinBuild(t, dir))
	// one layer per package, each by its line of the lock (its hashes)
	wantContains(t, "progress", res.Log, "[deps] cowsay 6.1", "[deps] pyyaml 6.0.3",
		// resolved for the target too (its packages as requirement lines): all wheels, no toolchain
		"[resolve] resolve -r pylock.toml for musllinux_1_2_x86_64, CPython 3.12")
	wantNoBuilderPackages(t, res)
	wantContains(t, "output", run(t, res.Image), "pylock 6.0.3")
	noUVIn(t, res.Image)

	reqs := project(t, "requirements = \"requirements.txt\"\nentrypoint = [\"cowsay\", \"-t\", \"by uv\"]\n[build]\ninstaller = \"uv\"\n", map[string]string{"requirements.txt": "cowsay==6.1\n"})
	res = mustBuild(t, bed.BuildInProcess, standinBuild(t, reqs))
	wantContains(t, "progress", res.Log, "[deps] cowsay 6.1") // its own layer, installed by uv
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
	setFile(t, dir, "Dockerfile", eject(t, dir))
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
	// resolved for the target from pyproject.toml alone, each package then a layer of its own
	wantContains(t, "progress", res.Log, "[resolve] resolve -r pyproject.toml", "[deps] cowsay 6.1", "[deps] cython 3.3.1", "[deps] uv pip install --no-deps . (the project, non-editable)")
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
		".python-version":                          "3.12\n",
	})
	uvRun(t, dir, "lock")
	o := standinBuild(t, dir)
	res := mustBuild(t, bed.BuildInProcess, o)
	wantContains(t, "progress", res.Log, "[deps] cowsay 6.1", "[deps] uv pip install --no-deps . packages/wordlib (the workspace, non-editable)")
	wantContains(t, "output", run(t, res.Image), "| workspace |")
	wantSitePackages(t, res.Image, []string{"cowsay-6.1.dist-info", "greeter-0.1.0.dist-info", "wordlib-0.2.0.dist-info", "wordlib/__init__.py"}, []string{"*.pth"})

	setFile(t, dir, "packages/wordlib/src/wordlib/__init__.py", fmt.Sprintf("WORD = 'member changed %d'\n", time.Now().UnixNano()))
	res = mustBuild(t, bed.BuildInProcess, o)
	wantUnchangedStepsCached(t, res, "a change in a member's code", "cowsay 6.1")
	wantContains(t, "output", run(t, res.Image), "| member changed ")
}

// A lock made against PyPI builds behind a mirror given each way a company or a CI
// system gives it: the [build].index_url key, --build-arg PIP_INDEX_URL, UV_INDEX_URL or
// UV_DEFAULT_INDEX, a pip.conf or a uv.toml secret. A lock pins versions and hashes, not
// where the files come from, so they come from the mirror, hash-checked; uv comes from
// it too. Each mirror here serves the loopback index's files and records what it served;
// the uv.lock and pylock.toml are made against the loopback index, then made to record
// PyPI, as a user's do; the poetry.lock is
// spec/testdata/poetry-pypi, which records no index, as Poetry writes a lock against PyPI.
// A stale uv.lock still fails, saying to run uv lock.
func TestLocksFromPyPIBehindAMirror(t *testing.T) {
	t.Parallel()
	locks := []struct {
		name, acaifile, output string
		step                   string // a package's own layer, by the lock's hashes
		make                   func(t *testing.T, acaifile string) string
	}{
		{"uv.lock", "lock = \"uv.lock\"\nentrypoint = [\"greet\"]\n", "| greetings |", "[deps] cowsay 6.1", pypiUVLock},
		{"pylock.toml", "lock = \"pylock.toml\"\nentrypoint = [\"python\", \"-c\", \"import cowsay; print('pylock from the mirror')\"]\n", "pylock from the mirror", "[deps] cowsay 6.1", pypiPylock},
		{"poetry.lock", "entrypoint = [\"poetryapp\"]\n", "| poetry |", "[deps] cowsay 6.1", pypiPoetryLock},
	}
	// Each way names a mirror of its own, which records what it serves: the build's uv
	// and packages came from it (a step that ignored the way would find PyPI, which this
	// machine reaches, and the mirror would not see the request).
	ways := []struct {
		name     string
		settings func(t *testing.T, mirror string) (acaifile string, args, secrets map[string]string)
	}{
		{"build.index_url", func(t *testing.T, m string) (string, map[string]string, map[string]string) {
			return "[build]\nindex_url = \"" + m + "\"\n", nil, nil
		}},
		{"PIP_INDEX_URL", func(t *testing.T, m string) (string, map[string]string, map[string]string) {
			return "", map[string]string{"PIP_INDEX_URL": m}, nil
		}},
		{"UV_INDEX_URL", func(t *testing.T, m string) (string, map[string]string, map[string]string) {
			return "", map[string]string{"UV_INDEX_URL": m}, nil
		}},
		{"UV_DEFAULT_INDEX", func(t *testing.T, m string) (string, map[string]string, map[string]string) {
			return "", map[string]string{"UV_DEFAULT_INDEX": m}, nil
		}},
		{"pip.conf secret", func(t *testing.T, m string) (string, map[string]string, map[string]string) {
			dir := t.TempDir()
			setFile(t, dir, "pip.conf", "[global]\nindex-url = "+m+"\n")
			return "", nil, map[string]string{"pip.conf": filepath.Join(dir, "pip.conf")}
		}},
		{"uv.toml secret", func(t *testing.T, m string) (string, map[string]string, map[string]string) {
			dir := t.TempDir()
			setFile(t, dir, "uv.toml", "[[index]]\nname = \"mirror\"\nurl = \""+m+"\"\ndefault = true\n")
			return "", nil, map[string]string{"uv.toml": filepath.Join(dir, "uv.toml")}
		}},
	}
	for _, lock := range locks {
		for _, way := range ways {
			t.Run(lock.name+"/"+way.name, func(t *testing.T) {
				t.Parallel()
				mirror, served := recordingMirror(t)
				acaifile, args, secrets := way.settings(t, mirror)
				o := standinBuild(t, lock.make(t, bed.WithSyntax(lock.acaifile+acaifile)))
				// BuildKit keeps a secret out of a step's cache key, and runs a step that two
				// builds share once: without an input of its own (pip reads this variable
				// into its user agent only), a step given this mirror in a secret would be
				// another subtest's, CACHED or shared, and this mirror asked nothing.
				if args == nil {
					args = map[string]string{}
				}
				args["PIP_USER_AGENT_USER_DATA"] = fmt.Sprintf("%s %d", t.Name(), time.Now().UnixNano())
				o.Args, o.Secrets = args, secrets
				res := mustBuild(t, bed.BuildWithBuildctl, o)
				wantContains(t, "progress", res.Log, "[deps] uv "+spec.UVVersion+" from the Python index", lock.step)
				wantContains(t, "output", run(t, res.Image), lock.output)
				for _, page := range []string{"/simple/uv/", "/simple/cowsay/"} {
					if !slices.Contains(served(), page) {
						t.Errorf("the mirror did not serve %s: it served %q", page, served())
					}
				}
			})
		}
	}
	t.Run("stale uv.lock", func(t *testing.T) {
		t.Parallel()
		dir := pypiUVLock(t, bed.WithSyntax(locks[0].acaifile))
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

// recordingMirror serves the loopback index's files on a loopback port of its own for
// the test's lifetime, as a company's mirror of PyPI; it returns the simple-index URL and
// the paths served so far.
func recordingMirror(t *testing.T) (string, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var paths []string
	files := http.FileServer(http.Dir(bed.Index.Dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/simple", func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(paths) }
}

// pypiUVLock is the greeter uv project locked against the loopback index, its lock
// then recording PyPI.
func pypiUVLock(t *testing.T, acaifile string) string {
	t.Helper()
	dir := uvProject(t, acaifile)
	recordPyPI(t, dir, "uv.lock", `source = { registry = "https://pypi.org/simple" }`)
	return dir
}

// pypiPylock is the greeter project's PEP 751 lock, made against the loopback index,
// then recording PyPI: its file URLs (files.pythonhosted.org) are unreachable behind a
// mirror, so its packages come from the mirror by hash.
func pypiPylock(t *testing.T, acaifile string) string {
	t.Helper()
	dir := uvProject(t, acaifile)
	uvRun(t, dir, "export", "--format", "pylock.toml", "--no-emit-project", "--output-file", "pylock.toml")
	recordPyPI(t, dir, "pylock.toml", `index = "https://pypi.org/simple"`)
	return dir
}

// recordPyPI makes the lock in dir record PyPI where it records the loopback index, and
// checks that it then has want.
func recordPyPI(t *testing.T, dir, lock, want string) {
	t.Helper()
	text := strings.ReplaceAll(readHostFile(t, filepath.Join(dir, lock)), bed.Index.Root, "https://pypi.org")
	if !strings.Contains(text, want) {
		t.Fatalf("the %s does not record PyPI (%s):\n%s", lock, want, text)
	}
	setFile(t, dir, lock, text)
}

// pypiPoetryLock is the Poetry project with spec/testdata/poetry-pypi's lock, which
// records no index.
func pypiPoetryLock(t *testing.T, acaifile string) string {
	t.Helper()
	dir := poetryProject(t, acaifile)
	for _, f := range []string{"pyproject.toml", "poetry.lock"} {
		setFile(t, dir, f, readHostFile(t, filepath.Join(bed.Repo, "spec/testdata/poetry-pypi", f)))
	}
	return dir
}
