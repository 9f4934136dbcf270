// Package spec is the Acaifile: its types, how it is parsed, the defaults it gets and
// the rules it must follow. It knows nothing about BuildKit; the frontend turns a
// validated Acaifile into LLB.
package spec

import (
	"path"
	"strings"
	"time"
)

// Acaifile is a parsed, validated Acaifile with its defaults filled in.
//
// The `doc` tags are the reference documentation of each key; the JSON Schema
// (see Schema) is generated from them, so they are written once.
type Acaifile struct {
	Python       string            `toml:"python" doc:"Python version: \"3.X\" (its newest patch release) or a patch release \"3.X.Y\" (the image python:3.X.Y-alpine). Without it, the first version in a .python-version file at the context's root (as pyenv, uv and Railpack read it), else the newest Python in the version table that the project's requires-python (pyproject.toml) accepts, else 3.12. A version the table does not list is tried against the registry, with the warning UnlistedBase; one whose image does not exist is an error at this line." default:"3.12"`
	Alpine       string            `toml:"alpine" doc:"Alpine release (\"3.Y\") of both stages. Default: the newest release the version table pairs with python; for a patch release or an unlisted Python, the newest one its image is built on (python:3.X.Y-alpine)."`
	Requirements StringList        `toml:"requirements" doc:"Requirement file(s) in the build context, as pip install -r takes them."`
	Packages     []string          `toml:"packages" doc:"Inline requirement specifiers (PEP 508), e.g. \"requests==2.32.3\"."`
	Lock         string            `toml:"lock" doc:"A lock file in the build context, installed exactly as locked by uv: uv.lock or poetry.lock (each with its pyproject.toml beside it; the project itself is then installed, non-editable) or pylock.toml (PEP 751). Default: uv.lock, pylock.toml or poetry.lock at the context's root when no requirements, packages or lock are named."`
	APK          []string          `toml:"apk" doc:"Alpine packages the runner needs at run time (added with apk add --no-cache)."`
	Entrypoint   Command           `toml:"entrypoint" doc:"Image ENTRYPOINT: a list (exec form) or a string (run with /bin/sh -c). Default: the base image's."`
	Cmd          Command           `toml:"cmd" doc:"Image CMD: a list (exec form) or a string (run with /bin/sh -c). Setting entrypoint drops the base image's CMD, as in a Dockerfile."`
	Workdir      string            `toml:"workdir" doc:"Absolute directory the application is copied to and runs in (/var/task with the lambda layout)." default:"/app"`
	App          []string          `toml:"app" doc:"Context paths or globs copied into workdir, keeping their paths. Default: the whole context minus .dockerignore, the Acaifile, the requirement files and what never belongs in an image (.git, .venv, __pycache__, ...: spec/app-excludes.txt)."`
	Env          map[string]string `toml:"env" doc:"Environment variables of the image."`
	User         string            `toml:"user" doc:"User the app runs as: a name, uid or uid:gid; \"root\" is allowed. Default: a non-root user (appuser, 10001) created in the runner."`
	Expose       []Port            `toml:"expose" doc:"Exposed ports: 8080, \"8080/tcp\" or \"53/udp\"."`
	Labels       map[string]string `toml:"labels" doc:"Image labels."`
	StopSignal   string            `toml:"stop_signal" doc:"Signal that stops the container (STOPSIGNAL): a name such as \"SIGINT\" or \"SIGTERM\", or a number; gunicorn and uvicorn shut down gracefully on SIGINT, SIGTERM and SIGQUIT. Default: the base image's."`
	Healthcheck  Healthcheck       `toml:"healthcheck" doc:"Image HEALTHCHECK: a command and how often it runs."`
	Build        Build             `toml:"build" doc:"The ACAI builder stage."`
	Runtime      Runtime           `toml:"runtime" doc:"The slim runner stage."`
	Test         Test              `toml:"test" doc:"The test target (--target test)."`

	// Source is the Acaifile text and where each key stands in it.
	Source *Source `toml:"-"`
	// PythonFrom is where Python came from when the Acaifile does not set it:
	// PythonFromVersionFile, PythonFromRequiresPython with its specifier, or
	// PythonFromDefault ("" when the Acaifile sets it).
	PythonFrom string `toml:"-"`
	// PythonPatch is the patch release the Acaifile or .python-version names ("3.12.7"),
	// "" for a major.minor: Python then holds its major.minor.
	PythonPatch string `toml:"-"`
	// LockFrom is "detected" when the lock was found in the context, not named.
	LockFrom string `toml:"-"`
	// UnlockedProject: the context's pyproject.toml, found with no lock and no install
	// keys, is installed (its dependencies resolved at build time).
	UnlockedProject bool `toml:"-"`
	// written is the Acaifile as its bytes say it, before defaults and the build context:
	// what WithContext decides from.
	written *Acaifile
}

// PyprojectFile is a Python project's metadata file.
const PyprojectFile = "pyproject.toml"

// Build configures the ACAI builder stage, where dependencies are installed.
type Build struct {
	APK            []string `toml:"apk" doc:"Extra build-time Alpine packages, e.g. postgresql-dev."`
	Image          string   `toml:"image" doc:"A prebuilt ACAI builder image to use instead of the generated one (e.g. one made with --target builder)."`
	IndexURL       string   `toml:"index_url" doc:"pip --index-url: the package index pip uses instead of PyPI."`
	ExtraIndexURLs []string `toml:"extra_index_urls" doc:"pip --extra-index-url: further package indexes."`
	FindLinks      []string `toml:"find_links" doc:"pip --find-links: URLs or context-free locations of distribution archives."`
	NoDeps         bool     `toml:"no_deps" doc:"Install exactly the listed requirements, without their dependencies (pip --no-deps)."`
	Installer      string   `toml:"installer" doc:"What installs the requirements: \"uv\" (the default; the only choice for a lock or a pyproject.toml) or \"pip\" (requirement files and packages only)." enum:"pip,uv"`
	UVImage        string   `toml:"uv_image" doc:"An image whose /uv runs the resolve and the uv installs (e.g. ghcr.io/astral-sh/uv:0.13.9, or its copy in your registry), instead of the pinned uv wheel that acai fetches, hash-checked, from the build's Python index."`
	Extras         []string `toml:"extras" doc:"Extras of the uv.lock project to install (uv --extra)."`
	Groups         []string `toml:"groups" doc:"Dependency groups of the uv.lock project to install (uv --group); dev dependencies are never installed."`
	Cross          *bool    `toml:"cross" doc:"For a target platform other than the build platform (--platform linux/arm64 on amd64): install the target's wheels and assemble its runner from build-platform steps, running no target binary (no emulator). false runs every step on the target platform, under an emulator (QEMU registered with binfmt_misc)." default:"true"`
}

// CrossEnabled is [build].cross with its default (on).
func (b Build) CrossEnabled() bool { return b.Cross == nil || *b.Cross }

// Installers.
const (
	InstallerPip = "pip"
	InstallerUV  = "uv"
)

// Lock kinds, by file name.
const (
	LockUV     = "uv.lock"
	LockPylock = "pylock.toml"
	LockPoetry = "poetry.lock"
)

// LockKind is LockUV, LockPoetry or LockPylock for the Acaifile's lock, "" without one.
func (a *Acaifile) LockKind() string {
	switch base := path.Base(a.Lock); {
	case a.Lock == "":
		return ""
	case base == LockUV:
		return LockUV
	case base == LockPoetry:
		return LockPoetry
	default:
		return LockPylock
	}
}

// ProjectDir is the directory of the lock's project (its pyproject.toml is there).
func (a *Acaifile) ProjectDir() string { return path.Dir(a.Lock) }

// Layouts of the installed dependencies in the runner.
const (
	// LayoutVenv installs dependencies into a virtual environment at VenvDir whose
	// bin/ is on PATH, so they import from any directory and console scripts run.
	LayoutVenv = "venv"
	// LayoutLambda installs dependencies and the app into LambdaTaskRoot, as the AWS
	// Lambda Python images do.
	LayoutLambda = "lambda"

	VenvDir        = "/opt/venv"
	LambdaTaskRoot = "/var/task"
)

// Runtime configures the slim runner stage.
type Runtime struct {
	AutoDeps  *bool  `toml:"auto_deps" doc:"Find the shared libraries the installed packages need and add the Alpine packages (so:NAME) that provide them." default:"true"`
	Image     string `toml:"image" doc:"Runner base image; default python:{python}-alpine{alpine}."`
	Layout    string `toml:"layout" doc:"Where dependencies go: \"venv\" (/opt/venv, on PATH) or \"lambda\" (deps and app in /var/task)." default:"venv" enum:"venv,lambda"`
	Layers    string `toml:"layers" doc:"How the installed dependencies are layered: \"package\" (one layer per package, so that a version bump ships one layer) or \"single\" (one layer)." default:"package" enum:"package,single"`
	MaxLayers int    `toml:"max_layers" doc:"Most dependency layers with layers = \"package\"; more packages share layers, grouped by name so that a bump still changes one." default:"60"`
	Slim      *bool  `toml:"slim" doc:"Remove from the installed packages what no program loads at run time: test suites inside packages, C/C++ headers and sources, Cython sources, type stubs, static archives; strip the symbol tables of shared objects (strip --strip-unneeded)." default:"true"`
	// Keep holds globs, not package names: a package keeps part of itself (its tests).
	Keep []string `toml:"keep" doc:"Paths (globs, relative to site-packages or the Lambda task root) that slimming leaves as they are, e.g. [\"mypkg/tests\"] for a package that imports its tests at run time."`
}

// Layerings of the installed dependencies (Runtime.Layers).
const (
	LayersPackage = "package"
	LayersSingle  = "single"
	// DefaultMaxLayers leaves room under the image layer limits (about 125 in Docker's
	// storage drivers; moby/buildkit#4810 met about 70 when a stage is mounted into a
	// step) for the base image's, the runtime packages' and the app's layers.
	DefaultMaxLayers = 60
)

// Test configures the test target: the runner plus test-only requirements.
type Test struct {
	Command      Command    `toml:"command" doc:"Command run in the runner with the test requirements installed; the build fails when it fails."`
	Requirements StringList `toml:"requirements" doc:"Test-only requirement file(s)."`
	Packages     []string   `toml:"packages" doc:"Test-only requirement specifiers."`
}

// Healthcheck is the image's HEALTHCHECK, as a Dockerfile writes it.
type Healthcheck struct {
	Command       Command `toml:"command" doc:"Health command: a list (exec form) or a string (run with /bin/sh -c); \"none\" disables a healthcheck inherited from the base image."`
	Interval      string  `toml:"interval" doc:"Time between checks, e.g. \"30s\"; default 30s."`
	Timeout       string  `toml:"timeout" doc:"Time a check may take before it counts as failed, e.g. \"5s\"; default 30s."`
	StartPeriod   string  `toml:"start_period" doc:"Start-up time during which failures do not count, e.g. \"1m\"; default 0s."`
	StartInterval string  `toml:"start_interval" doc:"Time between checks during the start period, e.g. \"2s\"; default 5s."`
	Retries       int     `toml:"retries" doc:"Consecutive failures that make the container unhealthy; default 3."`
}

// IsSet reports whether the Acaifile sets a healthcheck (or disables one).
func (h Healthcheck) IsSet() bool { return h.Command.IsSet() }

// Disabled reports whether the healthcheck is `command = "none"`: HEALTHCHECK NONE.
func (h Healthcheck) Disabled() bool {
	return h.Command.Shell && strings.EqualFold(strings.TrimSpace(h.Command.Args[0]), "none")
}

// Durations are the healthcheck's interval, timeout, start period and start interval
// (zero where not set: the engine's defaults apply). The strings were validated.
func (h Healthcheck) Durations() (interval, timeout, startPeriod, startInterval time.Duration) {
	d := func(s string) time.Duration {
		v, _ := time.ParseDuration(s)
		return v
	}
	return d(h.Interval), d(h.Timeout), d(h.StartPeriod), d(h.StartInterval)
}

// StringList is a key that takes one string or a list of strings.
type StringList []string

// Command is an ENTRYPOINT/CMD/test command: exec form (a list) or shell form (a string).
type Command struct {
	Args  []string
	Shell bool
}

// IsSet reports whether the command was given.
func (c Command) IsSet() bool { return len(c.Args) > 0 }

// Argv is the command as the image config holds it: shell form runs under /bin/sh -c,
// as a Dockerfile's shell-form ENTRYPOINT does.
func (c Command) Argv() []string {
	if c.Shell {
		return []string{"/bin/sh", "-c", c.Args[0]}
	}
	return c.Args
}

// Port is an exposed port in the image config's form: "8080/tcp".
type Port string

// DefaultUser is the non-root user created in the runner unless `user` says otherwise.
const (
	DefaultUser = "appuser"
	DefaultUID  = 10001
)

// UserToCreate is the user account the runner must create, or "" when `user` is root or
// numeric (a numeric uid needs no account).
func (a *Acaifile) UserToCreate() string {
	if a.User == "root" || isNumericUser(a.User) {
		return ""
	}
	return a.User
}

// AutoDepsEnabled is [runtime].auto_deps with its default (on).
func (a *Acaifile) AutoDepsEnabled() bool {
	return a.Runtime.AutoDeps == nil || *a.Runtime.AutoDeps
}

// SlimEnabled is [runtime].slim with its default (on).
func (a *Acaifile) SlimEnabled() bool {
	return a.Runtime.Slim == nil || *a.Runtime.Slim
}

// DepsDir is where the installed dependencies live in builder and runner.
func (a *Acaifile) DepsDir() string {
	if a.Runtime.Layout == LayoutLambda {
		return LambdaTaskRoot
	}
	return VenvDir
}

// BaseImage is the official image both stages start from: python:3.12-alpine3.24, or
// for a patch release or a Python the version table does not list, without `alpine`,
// the tag of the newest Alpine release docker-library builds it on (python:3.12.7-alpine).
func (a *Acaifile) BaseImage() string {
	v := a.Python
	if a.PythonPatch != "" {
		v = a.PythonPatch
	}
	return "python:" + v + "-alpine" + a.Alpine
}

// RunnerImage is the runner's base image.
func (a *Acaifile) RunnerImage() string {
	if a.Runtime.Image != "" {
		return a.Runtime.Image
	}
	return a.BaseImage()
}
