package frontend

import (
	_ "embed"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/acai-build/acai/model"
	"github.com/acai-build/acai/plan"
	"github.com/acai-build/acai/spec"
	"github.com/moby/buildkit/client/llb"
)

// installer is one tool that installs Python packages into the dependency directory,
// pip or uv: what its steps run and run with. Only the two types behind it know pip
// from uv; the steps ask it.
type installer interface {
	// Tool is what every step of the installer runs with: its settings, cache, secrets
	// and mounts.
	Tool() *tool
	// InstallArgs is the command line that installs into a's dependency directory (the
	// venv's Python, or the Lambda task root), up to its sources.
	InstallArgs(a *spec.Acaifile) []string
	// NoBinary are its options that build these packages from source.
	NoBinary(names []string) []string
	// NoCompile is its option, last on its command line, that leaves the bytecode
	// uncompiled: slim.py compiles what stays once it has slimmed.
	NoCompile() []string
}

// tool is what a step of an installer runs with.
type tool struct {
	name        string      // progress names and cache ids
	what        string      // its install in progress names: "uv pip install"
	argPrefixes []string    // the build args it reads (PIP_, UV_), passed as its environment
	env         [][2]string // its settings for a build step
	cacheDir    string      // its download and wheel cache, a cache mount
	secrets     [][2]string // secret id → where it reads it: private index configuration
	launcher    []string    // what runs the step's command line: uv's settings, pip's CA bundle
	mounts      []model.Mount
}

type pipInstaller struct{ tool }

type uvInstaller struct{ tool }

func (p *pipInstaller) Tool() *tool { return &p.tool }
func (u *uvInstaller) Tool() *tool  { return &u.tool }

func (p *pipInstaller) InstallArgs(a *spec.Acaifile) []string {
	args := []string{"python", "-m", "pip"}
	if a.Runtime.Layout == spec.LayoutVenv {
		args = append(args, "--python", spec.VenvDir+"/bin/python", "install")
	} else {
		args = append(args, "install", "--target", a.DepsDir())
	}
	return append(args, "--prefer-binary", "--no-warn-script-location")
}

func (u *uvInstaller) InstallArgs(a *spec.Acaifile) []string {
	return append(append([]string{uvMount + "/uv", "pip", "install"}, target(a)...), "--compile-bytecode")
}

func (p *pipInstaller) NoCompile() []string { return []string{"--no-compile"} }
func (u *uvInstaller) NoCompile() []string  { return []string{"--no-compile-bytecode"} }

func (p *pipInstaller) NoBinary(names []string) []string {
	return []string{"--no-binary", strings.Join(names, ",")}
}

func (u *uvInstaller) NoBinary(names []string) []string {
	var out []string
	for _, name := range names {
		out = append(out, "--no-binary", name)
	}
	return out
}

var (
	pip = &pipInstaller{tool{
		name: spec.InstallerPip, what: "pip install", argPrefixes: []string{"PIP_"}, cacheDir: "/root/.cache/pip",
		// Quiet warnings that do not apply in a build step.
		env:      [][2]string{{"PIP_DISABLE_PIP_VERSION_CHECK", "1"}, {"PIP_ROOT_USER_ACTION", "ignore"}},
		secrets:  [][2]string{{"pip.conf", "/etc/pip.conf"}, {"netrc", "/root/.netrc"}, {caBundleSecret, caBundleFile}},
		launcher: []string{"/bin/sh", "-c", `[ ! -f ` + caBundleFile + ` ] || export PIP_CERT=` + caBundleFile + `; exec "$@"`, "acai-pip"},
	}}
	uv = &uvInstaller{tool{
		// uv also gets pip's settings, which uvSettingsScript carries over.
		name: spec.InstallerUV, what: "uv pip install", argPrefixes: []string{"UV_", "PIP_"}, cacheDir: "/root/.cache/uv",
		env: [][2]string{
			// The base image's Python is the only Python.
			{"UV_PYTHON_DOWNLOADS", "never"},
			// The cache is a mount: copy from it rather than link into it.
			{"UV_LINK_MODE", "copy"},
			{"UV_NO_PROGRESS", "1"},
		},
		secrets:  [][2]string{{"uv.toml", "/etc/uv/uv.toml"}, {"pip.conf", "/etc/pip.conf"}, {"netrc", "/root/.netrc"}, {caBundleSecret, caBundleFile}},
		launcher: []string{"python", uvSettingsMount + "/uvsettings.py"},
		mounts: []model.Mount{
			{Target: uvMount, Tool: model.ToolUV, Readonly: true},
			{Target: uvSettingsMount, Readonly: true, Files: &model.Files{Name: "uv's settings from pip's (uvsettings.py)",
				Generated: []model.File{{Path: "uvsettings.py", Data: []byte(uvSettingsScript)}}}},
		},
	}}
)

// caBundleSecret is a PEM file of the certificates that sign the user's index (a proxy
// that intercepts TLS, a company CA): --secret id=ca-bundle,src=FILE. pip (PIP_CERT) and
// uv (SSL_CERT_FILE) of acai's steps trust it when it is given; a variable naming an
// absent file would break them, so each step sets it only when the file is there.
const (
	caBundleSecret = "ca-bundle"
	caBundleFile   = "/etc/acai/ca-bundle.pem"
)

// compileEnv is what every compile in an install gets. The builder's temporary source
// directory (pip's /tmp/pip-install-*, uv's build directory) has a random name, which
// debug information, __FILE__ and the build-id would carry: no debug information (-g0
// comes after Python's own -g, so it wins; cmake and autotools read the same), and
// compilers that map those directories to fixed names (cc.sh, as CC and CXX). Two
// builds of an sdist then give the same bytes, and the shared objects are smaller.
var compileEnv = [][2]string{{"CFLAGS", "-g0"}, {"CXXFLAGS", "-g0"}, {"CC", ccMount + "/gcc"}, {"CXX", ccMount + "/g++"}}

// compilerWrapper is cc.sh, mounted at ccMount under each of compilerNames: it runs the
// real compiler of its name.
//
//go:embed cc.sh
var compilerWrapper string

var compilerNames = []string{"gcc", "g++"}

// compilerWrappers is the directory of compiler wrappers an install step mounts.
func compilerWrappers() *model.Files {
	f := &model.Files{Name: "compilers mapping the build directories (reproducible builds)"}
	for _, name := range compilerNames {
		f.Generated = append(f.Generated, model.File{Path: name, Data: []byte(compilerWrapper), Mode: 0o755})
	}
	return f
}

// env is the step's environment: the tool's settings, then compileEnv.
func (c command) env() [][2]string { return slices.Concat(c.tool.Tool().env, compileEnv) }

// uvSettingsScript runs uv with a pip user's index settings (PIP_* build args, a pip.conf
// secret) carried over, so that switching the installer keeps a private index working.
//
//go:embed uvsettings.py
var uvSettingsScript string

// uvSettingsMount is where uvSettingsScript is mounted in a uv step, as uvsettings.py:
// a file, so that no error or process list carries its text.
const uvSettingsMount = "/acai/uvsettings"

// argv is the step's command line, run by its tool's launcher (uv's through
// uvSettingsScript, pip's through a shell that sets its CA bundle).
func (c command) argv() []string { return slices.Concat(c.tool.Tool().launcher, c.args) }

// reads reports whether the tool reads the build arg name.
func (t *tool) reads(name string) bool {
	return slices.ContainsFunc(t.argPrefixes, func(p string) bool { return strings.HasPrefix(name, p) })
}

func installerNamed(name string) installer {
	if name == spec.InstallerUV {
		return uv
	}
	return pip
}

// command is one install step: the tool, its argv, a description for the progress
// name, the context paths it reads (mounted at requirementsMount) and whether it reads
// the whole project (mounted at projectMount).
type command struct {
	tool    installer
	args    []string
	what    string
	inputs  []string
	project []string // exclude patterns of the project mount; nil: no project mount
	dir     string   // working directory
	// generated are files acai writes for the step (name → content), mounted at
	// requirementsMount beside the inputs: a poetry.lock's exported requirements.
	generated map[string][]byte
	keys      []string // the Acaifile keys the step comes from, for its errors
	// resolve are the `uv pip compile` arguments that resolve what the step installs
	// (its sources, after the index options), run in dir with the same inputs, after
	// export (a shell command, "" for none); nil: nothing to resolve (a local project).
	resolve []string
	export  string
	// resolveFiles are generated files only the resolver reads, beside generated.
	resolveFiles map[string][]byte
	locked       bool // installs a lock's exact versions already
	noBinary     bool // its requirement files forbid wheels (--no-binary): it compiles itself
	// hint is printed when the step fails: what compiled, and what to do.
	hint string
	// slim, when set, slims what the step installs (slim.go); a local project's own
	// files are not slimmed.
	slim *slimming
	// wheels are the packages whose wheels, compiled in stages of their own (wheels.go),
	// the step installs.
	wheels []string
	// platform is where the step runs: the build platform's for a cross build's installs
	// (crossInstalls).
	platform model.Platform
}

// depsCommands are the dependency installs of the deps stage, in order: the lock (or the
// pyproject.toml found with no lock), the project itself, then the requirement files
// and packages. acai's LLB and the ejected Dockerfile both run these.
func depsCommands(a *spec.Acaifile, p Project, excludes []string) []command {
	var out []command
	switch {
	case a.Lock != "":
		out = append(out, lockCommand(a, p))
	case a.UnlockedProject:
		out = append(out, unlockedProjectCommand(a))
	}
	if (a.Lock != "" || a.UnlockedProject) && (p.Installable || len(p.Members) > 0) {
		out = append(out, projectCommand(a, p, excludes))
	}
	if len(a.Requirements)+len(a.Packages) > 0 {
		out = append(out, requirementsCommand(a, a.Requirements, a.Packages))
	}
	for i := range out {
		if out[i].project == nil {
			out[i].slim = slimmingFor(a)
		}
	}
	return out
}

// target is the installer's options that put packages into the dependency directory:
// the venv (its Python) or the Lambda task root (--target).
func target(a *spec.Acaifile) []string {
	if a.Runtime.Layout == spec.LayoutVenv {
		// The builder's tool installs into the venv, which carries no installer of its own.
		return []string{"--python", spec.VenvDir + "/bin/python"}
	}
	return []string{"--target", a.DepsDir()}
}

// indexOptions are the [build] keys as options pip and uv share.
func indexOptions(b spec.Build) []string {
	var args []string
	if b.IndexURL != "" {
		args = append(args, "--index-url", b.IndexURL)
	}
	for _, u := range b.ExtraIndexURLs {
		args = append(args, "--extra-index-url", u)
	}
	for _, u := range b.FindLinks {
		args = append(args, "--find-links", u)
	}
	if b.NoDeps {
		args = append(args, "--no-deps")
	}
	return args
}

// requirementsCommand installs requirement files and specifiers with the Acaifile's
// installer.
func requirementsCommand(a *spec.Acaifile, files, specs []string) command {
	tool := installerNamed(a.Build.Installer)
	args := tool.InstallArgs(a)
	args = append(args, indexOptions(a.Build)...)
	var desc, sources, resolve []string
	for _, f := range files {
		sources = append(sources, "-r", path.Join(requirementsMount, f))
		resolve = append(resolve, path.Join(requirementsMount, f))
		desc = append(desc, "-r "+f)
	}
	sources = append(sources, specs...)
	desc = append(desc, specs...)
	var resolveFiles map[string][]byte
	if len(specs) > 0 {
		// The resolver reads requirements from files only.
		resolveFiles = map[string][]byte{packagesFile: []byte(strings.Join(specs, "\n") + "\n")}
		resolve = append(resolve, path.Join(requirementsMount, packagesFile))
	}
	return command{tool: tool, args: append(args, sources...), what: tool.Tool().what + " " + strings.Join(desc, " "), inputs: files, dir: requirementsMount,
		keys: []string{"requirements", "packages"}, resolve: append(indexOptions(a.Build), resolve...), resolveFiles: resolveFiles}
}

// packagesFile holds the Acaifile's packages for the resolver.
const packagesFile = "acai-packages.txt"

// testCommand installs the [test] requirements and packages on top of the dependencies.
func testCommand(a *spec.Acaifile) command {
	cmd := requirementsCommand(a, a.Test.Requirements, a.Test.Packages)
	cmd.keys = []string{"test.requirements", "test.packages"}
	return cmd
}

// unlockedProjectCommand installs the dependencies a pyproject.toml declares, found with
// no lock (uv pip install -r pyproject.toml, with the extras and groups): resolved at
// build time, so not reproducible (rule UnlockedProject). Its only input is pyproject.toml.
func unlockedProjectCommand(a *spec.Acaifile) command {
	args := uv.InstallArgs(a)
	var selection []string
	for _, e := range a.Build.Extras {
		selection = append(selection, "--extra", e)
	}
	for _, g := range a.Build.Groups {
		selection = append(selection, "--group", g)
	}
	args = slices.Concat(args, indexOptions(a.Build), []string{"-r", spec.PyprojectFile}, selection)
	return command{tool: uv, args: args, what: "uv pip install -r pyproject.toml (no lock: resolved at build time)",
		inputs: []string{spec.PyprojectFile}, dir: requirementsMount, keys: []string{"lock"},
		resolve: slices.Concat(indexOptions(a.Build), []string{spec.PyprojectFile}, selection)}
}

// pylockRequirementsFile is a pylock.toml's packages as requirement lines, for the resolver.
const pylockRequirementsFile = "acai-pylock.txt"

// pylockHashedFile holds a pylock.toml's packages as hash-pinned requirement lines in
// the install step.
const pylockHashedFile = "acai-pylock-hashed.txt"

// poetryRequirementsFile is the name of a poetry.lock's exported requirements in the
// install step.
const poetryRequirementsFile = "acai-poetry-lock.txt"

// lockCommand installs the lock's packages exactly as locked, the project itself aside:
// its only inputs are the lock and, for uv.lock, the project's pyproject.toml, so an
// app-code change never re-runs it. uv.lock is exported (uv export --locked, which fails
// when the lock is out of date with pyproject.toml) and installed without resolving. A
// poetry.lock comes exported already (lockRequirements, spec.PoetryRequirements): the
// step's only input is that file.
func lockCommand(a *spec.Acaifile, p Project) command {
	install := append(uv.InstallArgs(a), indexOptions(a.Build)...)
	switch a.LockKind() {
	case spec.LockPylock:
		cmd := command{tool: uv, args: append(install, "-r", path.Join(requirementsMount, a.Lock)),
			what: "uv pip install -r " + a.Lock, inputs: []string{a.Lock}, dir: requirementsMount, keys: []string{"lock"}, locked: true}
		// A lock of index packages installs by hash from the build's index (a mirror of
		// the one it records), not from the file URLs it records (spec.PylockIndexRequirements).
		if p.LockHashedRequirements != nil {
			cmd.args = append(install, "--no-deps", "--require-hashes", "-r", path.Join(requirementsMount, pylockHashedFile))
			cmd.inputs, cmd.generated = nil, map[string][]byte{pylockHashedFile: p.LockHashedRequirements}
		}
		// uv pip compile takes no pylock.toml: it resolves the lock's packages as
		// requirement lines (spec.PylockRequirements); without them, nothing is resolved.
		if p.LockRequirements != nil {
			cmd.resolveFiles = map[string][]byte{pylockRequirementsFile: p.LockRequirements}
			cmd.resolve = append(indexOptions(a.Build), "--no-deps", path.Join(requirementsMount, pylockRequirementsFile))
		}
		return cmd
	case spec.LockPoetry:
		groups := strings.Join(append([]string{spec.PoetryMainGroup}, a.Build.Groups...), ",")
		exported := path.Join(requirementsMount, poetryRequirementsFile)
		return command{tool: uv, args: append(install, "--no-deps", "--require-hashes", "-r", exported),
			what:      "uv pip install --no-deps --require-hashes (" + a.Lock + ", groups " + groups + ")",
			generated: map[string][]byte{poetryRequirementsFile: p.LockRequirements}, dir: requirementsMount, keys: []string{"lock"},
			resolve: append(indexOptions(a.Build), "--no-deps", exported), locked: true}
	}
	// --no-emit-workspace: neither the project nor a workspace member, which are
	// installed from their sources by projectCommand.
	export := []string{uvMount + "/uv", "export", "--locked", "--no-dev", "--no-emit-workspace", "--format", "requirements.txt", "--output-file", "/tmp/acai-locked.txt"}
	for _, e := range a.Build.Extras {
		export = append(export, "--extra", e)
	}
	for _, g := range a.Build.Groups {
		export = append(export, "--group", g)
	}
	install = append(install, "--no-deps", "-r", "/tmp/acai-locked.txt")
	exportScript := lockedExport(export, p.LockIndexes)
	// "$@": what the resolution adds to the install (followPlan).
	script := exportScript + " && " + shellWords(install) + ` "$@"`
	inputs := []string{a.Lock, path.Join(a.ProjectDir(), spec.PyprojectFile)}
	what := "uv sync --locked --no-dev --no-install-project (" + a.Lock + ")"
	if len(p.Members) > 0 {
		what = "uv sync --locked --no-dev --no-install-workspace (" + a.Lock + ", " + strconv.Itoa(len(p.Members)) + " members)"
		for _, m := range p.Members {
			inputs = append(inputs, path.Join(a.ProjectDir(), m, spec.PyprojectFile))
		}
	}
	return command{tool: uv, args: []string{"/bin/sh", "-c", script, "acai-lock"}, what: what,
		inputs: inputs, dir: path.Join(requirementsMount, a.ProjectDir()), keys: []string{"lock"},
		export: exportScript, resolve: append(indexOptions(a.Build), "--no-deps", "/tmp/acai-locked.txt"), locked: true}
}

// uvIndexEnv are the index settings uv reads from its environment (a build arg, or pip's
// carried over by uvsettings.py).
var uvIndexEnv = []string{"UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX", "UV_EXTRA_INDEX_URL", "UV_FIND_LINKS", "UV_NO_INDEX"}

// lockedExport is the shell command that exports a uv.lock (export, `uv export --locked
// ...`). A lock pins versions and hashes, not where files come from: checked against the
// indexes it records (indexes), offline, a lock made against PyPI exports behind a mirror
// (--build-arg PIP_INDEX_URL=<mirror>), which uv would otherwise take for a change. Where
// that fails (a stale lock), the export runs again with the build's own index settings,
// whose message says what to do ("needs to be updated ... uv lock").
func lockedExport(export []string, indexes []string) string {
	if len(indexes) == 0 {
		return shellWords(export)
	}
	offline := []string{"env"}
	for _, k := range uvIndexEnv {
		offline = append(offline, "-u", k)
	}
	offline = append(offline, export[0], export[1], "--offline", "--default-index", indexes[0])
	for _, u := range indexes[1:] {
		offline = append(offline, "--index", u)
	}
	offline = append(offline, export[2:]...)
	return "{ " + shellWords(offline) + " 2>/dev/null || " + shellWords(export) + "; }"
}

// projectCommand installs the uv.lock project itself, non-editable, without its
// dependencies (installed by lockCommand): its input is the project's directory, minus
// what never belongs in an image, so it re-runs when the project changes, quickly.
// A uv workspace's members are installed with it, the same way.
func projectCommand(a *spec.Acaifile, p Project, excludes []string) command {
	args := append(uv.InstallArgs(a), "--no-deps")
	args = append(args, indexOptions(a.Build)...)
	dir := path.Join(projectMount, a.ProjectDir())
	var what []string
	if p.Installable {
		args = append(args, dir)
		what = append(what, a.ProjectDir())
	}
	for _, m := range p.Members {
		args = append(args, path.Join(dir, m))
		what = append(what, path.Join(a.ProjectDir(), m))
	}
	desc := " (the project, non-editable)"
	if len(p.Members) > 0 {
		desc = " (the workspace, non-editable)"
	}
	// uv records in a local project's dist-info when it built it (uv_cache.json, for its
	// own cache): a time, which would make two builds' images differ. It goes, with its
	// RECORD line.
	// "$@": what a cross build adds to the install (crossInstalls).
	script := shellWords(args) + ` "$@" && for f in ` + a.DepsDir() + `/lib/python*/site-packages/*.dist-info/uv_cache.json ` +
		a.DepsDir() + `/*.dist-info/uv_cache.json; do [ -e "$f" ] || continue; rm "$f"; sed -i '/\/uv_cache.json,/d' "${f%/*}/RECORD"; done`
	return command{tool: uv, args: []string{"/bin/sh", "-c", script, "acai-project"}, what: "uv pip install --no-deps " + strings.Join(what, " ") + desc,
		project: append([]string{}, excludes...), dir: dir, keys: []string{"lock"}} // never nil: the project is mounted
}

// installSteps are installs as steps of the build model, each following the plan when
// there is one (followPlan): what acai's LLB and the ejected Dockerfile run.
func installSteps(cmds []command, p *plan.Plan) []model.Run {
	out := make([]model.Run, len(cmds))
	for i, cmd := range cmds {
		cmd = followPlan(cmd, p)
		out[i] = cmd.step(stageDeps, cmd.what)
		out[i].MountsResolution = true // its inputs are the whole set's
	}
	return out
}

// install runs the install steps on top of st.
func (c *converter) install(st llb.State, steps []model.Run) llb.State {
	for _, r := range steps {
		st = c.run(st, r).Root()
	}
	return st
}

// step is cmd as a step of the build model: its command line (wrapped to print its hint
// when it fails), and its mounts. Its inputs are only what cmd reads; the installer's
// binary (uv), cache and secrets are mounts that reach no image.
func (cmd command) step(stage, name string) model.Run {
	t := cmd.tool.Tool()
	argv := cmd.argv()
	if len(cmd.wheels) > 0 {
		argv = wheelsArgs(argv, cmd.wheels)
	}
	if cmd.slim != nil {
		// slim.py byte-compiles what stays once it has slimmed: not the test suites it
		// removes.
		argv = cmd.slim.wrap(append(argv, cmd.tool.NoCompile()...))
	}
	if cmd.hint != "" {
		argv = append([]string{"/bin/sh", "-c", `"$@" || { rc=$?; printf '\n%s\n' "$0" >&2; exit $rc; }`, cmd.hint}, argv...)
	}
	var generated []model.File
	for _, name := range slices.Sorted(maps.Keys(cmd.generated)) {
		generated = append(generated, model.File{Path: name, Data: cmd.generated[name]})
	}
	r := model.Run{Stage: stage, Name: name, Keys: cmd.keys, Args: argv, Dir: cmd.dir, Env: cmd.env(), ArgPrefixes: t.argPrefixes, SSH: true, Platform: cmd.platform,
		Mounts: []model.Mount{
			// Writable (its changes are dropped): pip builds local projects in their directory.
			{Target: requirementsMount, Files: &model.Files{Context: cmd.inputs, Generated: generated}},
			{Target: t.cacheDir, Cache: "acai-" + t.name},
		}}
	// Private indexes: credentials come as secrets and never land in a layer.
	for _, s := range t.secrets {
		r.Mounts = append(r.Mounts, model.Mount{Target: s[1], Secret: s[0]})
	}
	r.Mounts = append(r.Mounts, t.mounts...)
	if cmd.project != nil {
		r.Mounts = append(r.Mounts, model.Mount{Target: projectMount, Project: cmd.project})
	}
	r.Mounts = append(r.Mounts, model.Mount{Target: ccMount, Files: compilerWrappers(), Readonly: true})
	if cmd.slim != nil {
		r.Mounts = append(r.Mounts, cmd.slim.mount())
	}
	r.Mounts = append(r.Mounts, wheelMounts(cmd.wheels)...)
	return r
}
