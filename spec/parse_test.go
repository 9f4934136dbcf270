package spec

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseFillsDefaults(t *testing.T) {
	a, err := Parse("Acaifile", []byte("# syntax=acai/frontend\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := struct{ Python, Alpine, Workdir, User, Layout string }{"3.12", "3.24", "/app", "appuser", "venv"}
	got := struct{ Python, Alpine, Workdir, User, Layout string }{a.Python, a.Alpine, a.Workdir, a.User, a.Runtime.Layout}
	if got != want {
		t.Fatalf("defaults = %+v, want %+v", got, want)
	}
	if !a.AutoDepsEnabled() || !a.SlimEnabled() || a.BaseImage() != "python:3.12-alpine3.24" || a.DepsDir() != VenvDir {
		t.Fatalf("auto_deps=%v base=%s deps=%s", a.AutoDepsEnabled(), a.BaseImage(), a.DepsDir())
	}
}

func TestParseEveryKey(t *testing.T) {
	src := `# syntax=acai/frontend
python = "3.11"
alpine = "3.20"
requirements = ["requirements.txt", "extra/reqs.txt"]
packages = ["requests==2.32.3", "numpy>=1.26,<3", "uvicorn[standard]", "pkg @ https://example.com/pkg.whl", "tomli; python_version < '3.11'"]
apk = ["libstdc++", "so:libpq.so.5"]
entrypoint = "exec python -m app"
cmd = ["--port", "8080"]
workdir = "/srv/app"
app = ["src/", "*.py"]
env = { APP_MODE = "prod" }
user = "1000:1000"
expose = [8080, "53/udp"]
labels = { "org.opencontainers.image.title" = "demo" }

[build]
apk = ["postgresql-dev"]
image = "registry.example.com/acai:3.11"
index_url = "https://pypi.example.com/simple"
extra_index_urls = ["https://extra.example.com/simple"]
find_links = ["https://wheels.example.com/"]
no_deps = true
uv_image = "registry.example.com/uv:0.13.9"

[runtime]
auto_deps = false
image = "registry.example.com/python:3.11-alpine3.20"
layout = "venv"
slim = false
keep = ["mypkg/tests"]

[test]
command = ["python", "-m", "pytest"]
requirements = "requirements-test.txt"
packages = ["pytest==8.3.3"]
`
	a, err := Parse("Acaifile", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"requirements", a.Requirements, StringList{"requirements.txt", "extra/reqs.txt"}},
		{"entrypoint", a.Entrypoint.Argv(), []string{"/bin/sh", "-c", "exec python -m app"}},
		{"cmd", a.Cmd.Argv(), []string{"--port", "8080"}},
		{"expose", a.Expose, []Port{"8080/tcp", "53/udp"}},
		{"user to create", a.UserToCreate(), ""},
		{"auto_deps", a.AutoDepsEnabled(), false},
		{"slim", a.SlimEnabled(), false},
		{"keep", a.Runtime.Keep, []string{"mypkg/tests"}},
		{"runner image", a.RunnerImage(), "registry.example.com/python:3.11-alpine3.20"},
		{"test.requirements", a.Test.Requirements, StringList{"requirements-test.txt"}},
		{"build", a.Build, Build{APK: []string{"postgresql-dev"}, Image: "registry.example.com/acai:3.11",
			IndexURL: "https://pypi.example.com/simple", ExtraIndexURLs: []string{"https://extra.example.com/simple"},
			FindLinks: []string{"https://wheels.example.com/"}, NoDeps: true, Installer: "uv", UVImage: "registry.example.com/uv:0.13.9"}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	if r, ok := a.Source.KeyRange("build.index_url"); !ok || r.Start != (Position{19, 1}) {
		t.Errorf("build.index_url key range = %+v, %v", r, ok)
	}
	if r := a.Source.Locate("packages[1]"); r.Start != (Position{5, 33}) {
		t.Errorf("packages[1] at %+v, want 5:33", r.Start)
	}
	if UVVersion != "0.13.9" || UVImage != "ghcr.io/astral-sh/uv:0.13.9" {
		t.Errorf("uv-wheels.txt pins %q (image %q)", UVVersion, UVImage)
	}
	if r := a.Source.Locate("packages[1]"); r.Start != (Position{5, 33}) {
		t.Errorf("packages[1] at %+v, want 5:33", r.Start)
	}
}

func TestLambdaLayoutDefaults(t *testing.T) {
	a, err := Parse("Acaifile", []byte("[runtime]\nlayout = \"lambda\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Workdir != LambdaTaskRoot || a.DepsDir() != LambdaTaskRoot {
		t.Fatalf("workdir=%s deps=%s", a.Workdir, a.DepsDir())
	}
}

// Every bad Acaifile yields exactly one *Error, at the line and column of the fault,
// whose text says what is wrong and what to do.
// An Acaifile saved with a UTF-8 byte order mark parses as the same file without it.
func TestParseSkipsALeadingByteOrderMark(t *testing.T) {
	a, err := Parse("Acaifile", []byte("\ufeff# syntax=acai/frontend\npython = \"3.11\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Python != "3.11" {
		t.Fatalf("python = %q, want 3.11", a.Python)
	}
	if r, ok := a.Source.Span("python"); !ok || r.Start.Line != 2 || r.Start.Column != 1 {
		t.Fatalf("python is at %+v, want line 2 column 1", r)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, src string
		line, col int
		contains  []string
	}{
		{"syntax", "python = \"3.12\napk = []\n", 1, 15, []string{"invalid TOML"}},
		{"typo at top", "pyton = \"3.12\"\n", 1, 1, []string{"unknown key `pyton`", "did you mean `python`?"}},
		{"typo in table", "[build]\nindex_ulr = \"https://x\"\n", 2, 1, []string{"unknown key `index_ulr` in [build]", "`index_url`"}},
		{"unknown far from any", "[runtime]\nzzzzzzzz = 1\n", 2, 1, []string{"valid keys in [runtime]: auto_deps, image, layout"}},
		{"python float", "python = 3.12\n", 1, 10, []string{"`python` must be a string, not a TOML float"}},
		{"python not a version", "\n\npython = \"3.x\"\n", 3, 10, []string{`"3.x" is not a Python version`, "3.12.7", "3.15"}},
		{"python 2", "python = \"2.7\"\n", 1, 10, []string{`"2.7" is not a Python version`}},
		{"python not a version", "python = \"latest\"\n", 1, 10, []string{`python = "3.12"`}},
		{"alpine not a release", "python = \"3.12\"\nalpine = \"edge\"\n", 2, 10, []string{`"edge" is not an Alpine release`, `alpine = "3.24"`}},
		{"requirements int", "requirements = 3\n", 1, 16, []string{"`requirements` must be a string or a list of strings, not an integer"}},
		{"requirements outside", "requirements = [\"ok.txt\", \"../secret.txt\"]\n", 1, 27, []string{"outside the build context"}},
		{"requirements absolute", "requirements = \"/etc/passwd\"\n", 1, 16, []string{"absolute path"}},
		{"bad specifier", "packages = [\"requests\", \"requests===\"]\n", 1, 25, []string{`"requests===" in ` + "`packages`" + ` is not a valid requirement`}},
		{"pip option", "packages = [\"--index-url=http://x\"]\n", 1, 13, []string{"pip option", "[build]"}},
		{"bad apk", "apk = [\"libstdc++\", \"Bad Name\"]\n", 1, 21, []string{`"Bad Name"`, "Alpine package"}},
		{"bad build apk", "[build]\napk = [\"gcc!\"]\n", 2, 8, []string{"`build.apk`"}},
		{"entrypoint number", "entrypoint = 5\n", 1, 14, []string{"`entrypoint` must be a list or a string"}},
		{"entrypoint empty", "entrypoint = []\n", 1, 1, []string{"empty list"}},
		{"entrypoint element", "entrypoint = [\"python\", 3]\n", 1, 25, []string{"element 2 is an integer"}},
		{"workdir relative", "workdir = \"app\"\n", 1, 11, []string{"absolute path"}},
		{"env key", "[env]\n\"1BAD\" = \"x\"\n", 2, 1, []string{`"1BAD" is not valid`}},
		{"env value type", "[env]\nPORT = 8080\n", 2, 8, []string{"`env.PORT` must be", "not a TOML integer"}},
		{"user", "user = \"Bad User\"\n", 1, 8, []string{"not a valid user"}},
		{"port range", "expose = [8080, 70000]\n", 1, 17, []string{`invalid port "70000"`}},
		{"port proto", "expose = [\"53/xyz\"]\n", 1, 11, []string{`invalid port "53/xyz"`}},
		{"port type", "expose = [true]\n", 1, 11, []string{"not a boolean"}},
		{"layout", "[runtime]\nlayout = \"conda\"\n", 2, 10, []string{`unknown ` + "`runtime.layout`" + ` "conda"`, `"venv" or "lambda"`}},
		{"lambda workdir", "workdir = \"/srv\"\n[runtime]\nlayout = \"lambda\"\n", 1, 11, []string{"conflicts"}},
		{"keep outside", "[runtime]\nkeep = [\"ok/tests\", \"../etc\"]\n", 2, 21, []string{"`runtime.keep` \"../etc\" is not a path inside the installed packages", `e.g. "mypkg/tests"`}},
		{"slim type", "[runtime]\nslim = \"no\"\n", 2, 8, []string{"true or false"}},
		{"auto_deps type", "[runtime]\nauto_deps = \"yes\"\n", 2, 13, []string{"true or false"}},
		{"index url", "[build]\nindex_url = \"ftp://x\"\n", 2, 13, []string{"http:// or https://"}},
		{"image ref", "[build]\nimage = \"not an image\"\n", 2, 9, []string{"not a valid image reference"}},
		{"test without command", "\n[test]\npackages = [\"pytest\"]\n", 2, 2, []string{"[test] has no `command`"}},
		{"app outside", "app = [\"../x\"]\n", 1, 8, []string{"outside"}},
		{"array table", "[[build]]\napk = []\n", 1, 3, nil},
		{"duplicate key", "python = \"3.12\"\npython = \"3.13\"\n", 2, 1, []string{"python"}},
		{"empty label key", "labels = { \"\" = \"x\" }\n", 1, 10, []string{"label key is empty"}},
		{"healthcheck without command", "[healthcheck]\ninterval = \"30s\"\n", 1, 2, []string{"[healthcheck] has no `command`"}},
		{"healthcheck duration", "[healthcheck]\ncommand = [\"true\"]\ninterval = \"30 seconds\"\n", 3, 12, []string{"`healthcheck.interval` \"30 seconds\" is not a duration", `"1m30s"`}},
		{"healthcheck tiny timeout", "[healthcheck]\ncommand = [\"true\"]\ntimeout = \"10us\"\n", 3, 11, []string{"less than 1ms"}},
		{"healthcheck negative retries", "[healthcheck]\ncommand = \"true\"\nretries = -1\n", 3, 11, []string{"negative"}},
		{"healthcheck none with options", "[healthcheck]\ncommand = \"none\"\nretries = 3\n", 3, 11, []string{"command = \"none\" disables"}},
		{"healthcheck command type", "[healthcheck]\ncommand = 5\n", 2, 11, []string{"`healthcheck.command` must be a list or a string"}},
		{"healthcheck unknown key", "[healthcheck]\ncommand = \"true\"\nintervall = \"1s\"\n", 3, 1, []string{"`interval`"}},
		{"stop signal", "stop_signal = \"SIGSTOPP\"\n", 1, 15, []string{"`stop_signal` \"SIGSTOPP\" is not a signal", "SIGTERM"}},
		{"stop signal number", "stop_signal = \"99\"\n", 1, 15, []string{"not a signal"}},
		{"BOM then an error", "\ufeffpyton = \"3.12\"\n", 1, 1, []string{"unknown key `pyton`"}},
		{"UTF-16", "\xff\xfep\x00y\x00", 1, 1, []string{"UTF-16", "must be UTF-8"}},
		{"UTF-16 without BOM", "#\x00 \x00s\x00", 1, 1, []string{"UTF-16"}},
		{"BOM later", "python = \"3.12\"\n\ufeffalpine = \"3.24\"\n", 2, 1, []string{"byte order mark (U+FEFF) after the start"}},
		{"invalid UTF-8", "# caf\xe9\npython = \"3.12\"\n", 1, 6, []string{"invalid UTF-8 (byte 0xE9)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := Parse("Acaifile", []byte(c.src))
			if err == nil {
				t.Fatalf("no error; parsed %+v", a)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not a *spec.Error", err, err)
			}
			if e.Range.Start.Line != c.line || e.Range.Start.Column != c.col {
				t.Errorf("error at %d:%d, want %d:%d: %v", e.Range.Start.Line, e.Range.Start.Column, c.line, c.col, err)
			}
			if e.Hint == "" {
				t.Errorf("error %q does not say what to do", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "Acaifile:") {
				t.Errorf("error does not name the Acaifile: %s", msg)
			}
			for _, s := range c.contains {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q does not contain %q", msg, s)
				}
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("python = \"3.12\"\napk = [\"libstdc++\"]\nentrypoint = [\"python\"]\n"))
	f.Add([]byte("[test]\ncommand = 3\nexpose = [1, \"x\"]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Parse("Acaifile", data)
		if err == nil && a == nil {
			t.Fatal("nil Acaifile without error")
		}
		var e *Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("error %T is not a *spec.Error", err)
		}
		// The same bytes as every context file the Acaifile reads, then lint.
		a, err = ParseWithContext("Acaifile", data, ContextFiles{PythonVersion: data, Present: DetectedLocks})
		if err != nil {
			return
		}
		files := map[string][]byte{"requirements.txt": data}
		for _, f := range a.Requirements {
			files[f] = data
		}
		Lint(a, files, time.Now())
		a.AppExcludes([]string{"venv"}, strings.Split(string(data), "\n"))
		HasBuildSystem(data)
	})
}

func TestHealthcheckAndStopSignal(t *testing.T) {
	a, err := Parse("Acaifile", []byte(`stop_signal = "SIGINT"
[healthcheck]
command = ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/health')"]
interval = "10s"
timeout = "2s"
start_period = "1m"
start_interval = "500ms"
retries = 5
`))
	if err != nil {
		t.Fatal(err)
	}
	i, to, sp, si := a.Healthcheck.Durations()
	if a.StopSignal != "SIGINT" || a.Healthcheck.Disabled() || a.Healthcheck.Retries != 5 ||
		i != 10*time.Second || to != 2*time.Second || sp != time.Minute || si != 500*time.Millisecond {
		t.Fatalf("stop_signal %q, healthcheck %+v", a.StopSignal, a.Healthcheck)
	}
	for _, sig := range []string{"SIGTERM", "term", "9", "SIGRTMIN+3", "QUIT"} {
		if _, err := Parse("Acaifile", []byte("stop_signal = \""+sig+"\"\n")); err != nil {
			t.Errorf("stop_signal %q: %v", sig, err)
		}
	}
	off, err := Parse("Acaifile", []byte("[healthcheck]\ncommand = \"NONE\"\n"))
	if err != nil || !off.Healthcheck.Disabled() {
		t.Fatalf("command = \"NONE\": disabled=%v err=%v", off != nil && off.Healthcheck.Disabled(), err)
	}
}

// The Python comes from the Acaifile, else .python-version, else the project's
// requires-python (the newest known Python it accepts), else acai's default; a patch
// release or an unlisted Python selects its python:VERSION-alpine tag.
func TestWhereThePythonComesFrom(t *testing.T) {
	pyproject := func(rp string) []byte {
		return []byte("[project]\nname = \"app\"\nversion = \"1\"\nrequires-python = \"" + rp + "\"\n")
	}
	for _, c := range []struct {
		name, acaifile, versionFile string
		pyproject                   []byte
		base, from, unlisted        string
	}{
		{"default", "", "", nil, "python:3.12-alpine3.24", PythonFromDefault, ""},
		{"acaifile", "python = \"3.13\"\n", "3.11\n", pyproject(">=3.14"), "python:3.13-alpine3.24", "", ""},
		{"acaifile 3.15", "python = \"3.15\"\n", "", nil, "python:3.15-alpine3.24", "", ""},
		{"acaifile patch", "python = \"3.12.7\"\n", "", nil, "python:3.12.7-alpine", "", ""},
		{"acaifile patch and alpine", "python = \"3.12.7\"\nalpine = \"3.20\"\n", "", nil, "python:3.12.7-alpine3.20", "", ""},
		{"acaifile unlisted python", "python = \"3.16\"\n", "", nil, "python:3.16-alpine", "", "Python 3.16 is not in acai's version table"},
		{"acaifile unlisted pairing", "python = \"3.12\"\nalpine = \"3.25\"\n", "", nil, "python:3.12-alpine3.25", "", "Python 3.12 is not listed with Alpine 3.25"},
		{"version file", "", "3.11\n", pyproject(">=3.14"), "python:3.11-alpine3.24", PythonFromVersionFile, ""},
		{"version file patch", "", "# pinned by uv\n\n3.15.1\n", nil, "python:3.15.1-alpine", PythonFromVersionFile, ""},
		{"version file cpython-", "", "cpython-3.12.7\n3.11\n", nil, "python:3.12.7-alpine", PythonFromVersionFile, ""},
		{"version file pre-release", "", "3.14.0rc2", nil, "python:3.14-alpine3.24", PythonFromVersionFile, ""},
		{"version file unlisted", "", "\n3.8.10\n", nil, "python:3.8.10-alpine", PythonFromVersionFile, "Python 3.8 is not in acai's version table"},
		{"requires-python lower bound", "", "", pyproject(">=3.13"), "python:3.15-alpine3.24", `pyproject.toml requires-python ">=3.13"`, ""},
		{"requires-python range", "", "", pyproject(">=3.10,<3.13"), "python:3.12-alpine3.24", `pyproject.toml requires-python ">=3.10,<3.13"`, ""},
		{"requires-python patch bound", "", "", pyproject(">=3.11.4, <3.12"), "python:3.11-alpine3.24", `pyproject.toml requires-python ">=3.11.4, <3.12"`, ""},
		{"requires-python wildcard", "", "", pyproject("==3.13.*"), "python:3.13-alpine3.24", `pyproject.toml requires-python "==3.13.*"`, ""},
		{"requires-python compatible", "", "", pyproject("~=3.11"), "python:3.15-alpine3.24", `pyproject.toml requires-python "~=3.11"`, ""},
		{"requires-python excluded", "", "", pyproject(">=3.14,!=3.15.*"), "python:3.14-alpine3.24", `pyproject.toml requires-python ">=3.14,!=3.15.*"`, ""},
		{"requires-python upper inclusive", "", "", pyproject("<=3.12"), "python:3.12-alpine3.24", `pyproject.toml requires-python "<=3.12"`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			files := ContextFiles{Pyproject: c.pyproject}
			if c.versionFile != "" {
				files.PythonVersion = []byte(c.versionFile)
			}
			a, err := ParseWithContext("Acaifile", []byte(c.acaifile), files)
			if err != nil {
				t.Fatal(err)
			}
			if a.BaseImage() != c.base || a.PythonFrom != c.from {
				t.Errorf("base %s from %q, want %s from %q", a.BaseImage(), a.PythonFrom, c.base, c.from)
			}
			if u := a.UnlistedBase(); (c.unlisted == "") != (u == "") || !strings.Contains(u, c.unlisted) {
				t.Errorf("UnlistedBase() = %q, want %q", u, c.unlisted)
			}
		})
	}
	for _, c := range []struct {
		name, versionFile string
		pyproject         []byte
		want              string
	}{
		{"pypy", "  pypy3.10-7.3.17\n", nil, `.python-version:1:3: "pypy3.10-7.3.17" is not a CPython 3 version`},
		{"system", "system\n", nil, "not a CPython 3 version"},
		{"requires-python accepts none", "", pyproject(">=4"), `pyproject.toml:4:1: requires-python ">=4" accepts none of the Pythons acai knows (3.9,`},
		{"requires-python unreadable", "", pyproject(">= three"), `pyproject.toml:4:1: requires-python ">= three": ">= three" is not a version specifier`},
		{"requires-python bad wildcard", "", pyproject(">=3.*"), `a .* wildcard goes with == or != only`},
	} {
		files := ContextFiles{Pyproject: c.pyproject}
		if c.versionFile != "" {
			files.PythonVersion = []byte(c.versionFile)
		}
		_, err := ParseWithContext("Acaifile", nil, files)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

func TestLockKeysAndDetection(t *testing.T) {
	a, err := Parse("Acaifile", []byte("lock = \"app/uv.lock\"\n[build]\nextras = [\"yaml\"]\ngroups = [\"prod\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a.LockKind() != LockUV || a.ProjectDir() != "app" || a.Build.Installer != InstallerUV {
		t.Errorf("lock %q kind %q dir %q installer %q", a.Lock, a.LockKind(), a.ProjectDir(), a.Build.Installer)
	}
	if a, _ := Parse("Acaifile", []byte("packages = [\"x==1\"]\n")); a.Build.Installer != InstallerUV {
		t.Errorf("installer for packages = %q, want uv (the default)", a.Build.Installer)
	}
	for _, c := range []struct {
		acaifile string
		present  []string
		lock     string
	}{
		{"", []string{"pyproject.toml", "uv.lock"}, "uv.lock"},
		{"", []string{"uv.lock"}, ""}, // a uv.lock needs its pyproject.toml
		{"", []string{"pylock.toml", "pyproject.toml"}, "pylock.toml"},
		{"", []string{"poetry.lock", "pyproject.toml"}, "poetry.lock"},
		{"", []string{"poetry.lock"}, ""}, // so does a poetry.lock
		{"", []string{"poetry.lock", "pyproject.toml", "uv.lock"}, "uv.lock"},
		{"requirements = \"r.txt\"\n", []string{"pyproject.toml", "uv.lock"}, ""},
	} {
		a, err := ParseWithContext("Acaifile", []byte(c.acaifile), ContextFiles{Present: c.present})
		if err != nil {
			t.Fatal(err)
		}
		if a.Lock != c.lock {
			t.Errorf("%q with %v: lock %q, want %q", c.acaifile, c.present, a.Lock, c.lock)
		}
	}
	// A pyproject.toml with a [project] and no lock is installed unlocked; one holding
	// only tool settings is not a project.
	unlocked, err := ParseWithContext("Acaifile", []byte("[build]\ngroups = [\"web\"]\n"), ContextFiles{Present: []string{"pyproject.toml"}, Pyproject: []byte("[project]\nname = \"app\"\n")})
	if err != nil || !unlocked.UnlockedProject || unlocked.Build.Installer != InstallerUV {
		t.Errorf("pyproject.toml without a lock: %v %+v", err, unlocked)
	}
	if f := Lint(unlocked, map[string][]byte{"pyproject.toml": []byte("# app\n[project]\nname = \"app\"\n")}, time.Now()); len(f) != 1 || f[0].Rule != RuleUnlockedProject || f[0].Range.Start.Line != 2 {
		t.Errorf("UnlockedProject findings: %+v", f)
	}
	if tools, _ := ParseWithContext("Acaifile", nil, ContextFiles{Present: []string{"pyproject.toml"}, Pyproject: []byte("[tool.ruff]\nline-length = 100\n")}); tools.UnlockedProject {
		t.Errorf("a pyproject.toml with only tool settings is installed")
	}
	for _, c := range []struct{ src, want string }{
		{"lock = \"poetry.lock\"\n[build]\nextras = [\"a\"]\n", "`build.extras` is not supported with a poetry.lock"},
		{"lock = \"poetry.lock\"\n[build]\ngroups = [\"main\"]\n", "the main group is always installed"},
		{"lock = \"deps.lock\"\n", "not a lock file acai installs"},
		{"lock = \"uv.lock\"\n[build]\ninstaller = \"pip\"\n", "installed by uv, not pip"},
		{"[build]\ninstaller = \"conda\"\n", "unknown `build.installer`"},
		{"packages = [\"x==1\"]\n[build]\nextras = [\"a\"]\n", "`build.extras` selects extras of a uv.lock project"},
		{"lock = \"../uv.lock\"\n", "outside the build context"},
	} {
		if _, err := Parse("Acaifile", []byte(c.src)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.src, err, c.want)
		}
	}
}

// The Acaifile is parsed once: the context's files, read after it, decide from what its
// bytes say, as if they had been there at the parse, and the parse's result is unchanged.
func TestContextAppliesToWhatTheAcaifileSays(t *testing.T) {
	a, err := Parse("Acaifile", []byte("entrypoint = [\"app\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Python != DefaultPython || a.Lock != "" {
		t.Fatalf("before the context: python %q lock %q, want %q and none", a.Python, a.Lock, DefaultPython)
	}
	withContext, err := a.WithContext(ContextFiles{Read: true, PythonVersion: []byte("3.13\n"), Present: []string{LockUV, PyprojectFile},
		Pyproject: []byte("[project]\nname = \"app\"\nversion = \"1\"\n")})
	if err != nil {
		t.Fatal(err)
	}
	if withContext.Python != "3.13" || withContext.PythonFrom != PythonFromVersionFile || withContext.Lock != LockUV || withContext.LockFrom != "detected" {
		t.Errorf("with the context: python %q (from %q), lock %q (%q); want 3.13 from .python-version, uv.lock detected",
			withContext.Python, withContext.PythonFrom, withContext.Lock, withContext.LockFrom)
	}
	if a.Python != DefaultPython || a.Lock != "" || a.PythonFrom != PythonFromDefault {
		t.Errorf("WithContext changed the parse's result: python %q lock %q", a.Python, a.Lock)
	}
	// Applied twice, the second context decides alone: nothing of the first stays.
	again, err := withContext.WithContext(ContextFiles{Read: true})
	if err != nil {
		t.Fatal(err)
	}
	if again.Python != DefaultPython || again.Lock != "" {
		t.Errorf("an empty context after another: python %q lock %q, want %q and none", again.Python, again.Lock, DefaultPython)
	}
}
