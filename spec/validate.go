package spec

import (
	"fmt"
	"maps"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

var (
	// PEP 508: a project name, optional extras, then a version specifier, URL or markers.
	requirementPattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?\s*(\[[A-Za-z0-9._,\s-]*\])?\s*(([<>=!~]=?|===)\s*[A-Za-z0-9*][^\s,;]*(\s*,\s*([<>=!~]=?|===)\s*[A-Za-z0-9*][^\s,;]*)*|@\s*\S+)?\s*(;.*)?$`)
	// Alpine package names, optionally with a constraint or a so:/cmd:/pc: provider prefix.
	apkPattern    = regexp.MustCompile(`^((so|cmd|pc|py3):)?[A-Za-z0-9][A-Za-z0-9+._-]*(([<>]?=|~|>|<)[A-Za-z0-9._-]+)?$`)
	envKeyPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	userPattern   = regexp.MustCompile(`^([a-z_][a-z0-9_-]{0,31}|[0-9]+(:[0-9]+)?)$`)
	imagePattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/:@-]*$`)
)

func isNumericUser(u string) bool {
	return u != "" && strings.Trim(u, "0123456789:") == ""
}

// validate checks every rule of the contract, in file order of the keys, and fills the
// defaults. It returns the first problem. contextRead: see ContextFiles.Read.
func (a *Acaifile) validate(contextRead bool) error {
	v := &parser{src: a.Source}
	a.validateVersions(v)
	for i, r := range a.Requirements {
		v.contextPath(fmt.Sprintf("requirements[%d]", i), r, false)
	}
	v.requirements("packages", a.Packages)
	v.lock(a, contextRead)
	v.apkNames("apk", a.APK)
	v.apkNames("build.apk", a.Build.APK)
	if a.Workdir != "" && !path.IsAbs(a.Workdir) {
		v.fail("workdir", `use an absolute path such as "/app"`, "`workdir` must be an absolute path, not %q", a.Workdir)
	}
	for i, g := range a.App {
		v.contextPath(fmt.Sprintf("app[%d]", i), g, true)
	}
	for _, k := range slices.Sorted(maps.Keys(a.Env)) {
		if !envKeyPattern.MatchString(k) {
			v.failAtKey("env."+k, "use letters, digits and underscores, not starting with a digit", "environment variable name %q is not valid", k)
		}
	}
	if a.User != "" && !userPattern.MatchString(a.User) {
		v.fail("user", `use a lower-case user name, a uid, uid:gid, or "root"`, "`user` %q is not a valid user", a.User)
	}
	for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
		if strings.TrimSpace(k) == "" {
			v.fail("labels", "give every label a name, e.g. \"org.opencontainers.image.title\"", "a label key is empty")
		}
	}
	v.image("build.image", a.Build.Image)
	v.image("runtime.image", a.Runtime.Image)
	v.image("build.uv_image", a.Build.UVImage)
	v.url("build.index_url", a.Build.IndexURL)
	for i, u := range a.Build.ExtraIndexURLs {
		v.url(fmt.Sprintf("build.extra_index_urls[%d]", i), u)
	}
	for i, u := range a.Build.FindLinks {
		v.url(fmt.Sprintf("build.find_links[%d]", i), u)
	}
	v.oneOf("runtime.layout", &a.Runtime.Layout, LayoutVenv, LayoutLambda)
	v.oneOf("runtime.layers", &a.Runtime.Layers, LayersPackage, LayersSingle)
	switch {
	case a.Runtime.MaxLayers == 0:
		a.Runtime.MaxLayers = DefaultMaxLayers
	case a.Runtime.MaxLayers < 1 || a.Runtime.MaxLayers > 100:
		v.fail("runtime.max_layers", "use a number from 1 to 100 (default 60)", "`runtime.max_layers` %d is out of range", a.Runtime.MaxLayers)
	}
	for i, k := range a.Runtime.Keep {
		if strings.TrimSpace(k) == "" || path.IsAbs(k) || slices.Contains(strings.Split(k, "/"), "..") {
			v.fail(fmt.Sprintf("runtime.keep[%d]", i), `name a path inside site-packages (or the Lambda task root), e.g. "mypkg/tests"`, "`runtime.keep` %q is not a path inside the installed packages", k)
		}
	}
	if a.Runtime.Layout == LayoutLambda && a.Workdir != "" && a.Workdir != LambdaTaskRoot {
		v.fail("workdir", "remove `workdir`: the lambda layout puts the app in "+LambdaTaskRoot, "`workdir` %q conflicts with layout = \"lambda\"", a.Workdir)
	}
	for i, r := range a.Test.Requirements {
		v.contextPath(fmt.Sprintf("test.requirements[%d]", i), r, false)
	}
	v.requirements("test.packages", a.Test.Packages)
	if _, hasTest := a.Source.KeyRange("test"); (hasTest || len(a.Test.Requirements)+len(a.Test.Packages) > 0) && !a.Test.Command.IsSet() {
		v.fail("test", `add command = ["python", "-m", "pytest"] (or your test command)`, "[test] has no `command`")
	}
	v.healthcheck(a)
	v.stopSignal(a.StopSignal)
	if v.err != nil {
		return v.err
	}
	a.fillDefaults()
	return nil
}

func (p *parser) lock(a *Acaifile, contextRead bool) {
	if a.Lock != "" {
		p.contextPath("lock", a.Lock, false)
		base := path.Base(a.Lock)
		switch {
		case base != LockUV && base != LockPoetry && base != LockPylock && !pylockPattern.MatchString(base):
			p.fail("lock", `name a uv.lock, a poetry.lock, or a PEP 751 pylock.toml (pylock.NAME.toml)`, "`lock` %q is not a lock file acai installs", a.Lock)
		}
	}
	b := a.Build
	if b.Installer != "" && b.Installer != InstallerPip && b.Installer != InstallerUV {
		p.fail("build.installer", `use "pip" or "uv"`, "unknown `build.installer` %q", b.Installer)
	}
	if a.Lock != "" && b.Installer == InstallerPip {
		p.fail("build.installer", `remove installer = "pip": uv installs the lock`, "a lock is installed by uv, not pip")
	}
	if a.UnlockedProject && b.Installer == InstallerPip {
		p.fail("build.installer", `remove installer = "pip": uv installs the project`, "the context's pyproject.toml is installed by uv, not pip")
	}
	switch a.LockKind() {
	case LockUV:
	case LockPoetry:
		if len(b.Extras) > 0 {
			p.fail("build.extras", "put the extra's packages in a dependency group and select it with `build.groups`", "`build.extras` is not supported with a poetry.lock yet")
		}
		if slices.Contains(b.Groups, PoetryMainGroup) {
			p.fail("build.groups", "remove it", "the main group is always installed")
		}
	case "":
		if a.UnlockedProject || !contextRead && len(a.Requirements)+len(a.Packages) == 0 {
			// uv pip install -r pyproject.toml --extra --group; or a project not detected yet
			break
		}
		fallthrough
	default:
		if len(b.Extras) > 0 {
			p.fail("build.extras", "name the extras in your requirements instead (\"pkg[extra]\")", "`build.extras` selects extras of a uv.lock project; there is none")
		}
		if len(b.Groups) > 0 {
			p.fail("build.groups", "list the group's packages in a requirement file instead", "`build.groups` selects dependency groups of a uv.lock or poetry.lock project; there is none")
		}
	}
	if a.Lock != "" && b.NoDeps {
		p.fail("build.no_deps", "remove it: a lock already lists every package", "`build.no_deps` does not apply to a lock")
	}
}

var pylockPattern = regexp.MustCompile(`^pylock\.[^.]+\.toml$`)

func (a *Acaifile) fillDefaults() {
	if a.Workdir == "" {
		a.Workdir = "/app"
		if a.Runtime.Layout == LayoutLambda {
			a.Workdir = LambdaTaskRoot
		}
	}
	a.Workdir = path.Clean(a.Workdir)
	if a.User == "" {
		a.User = DefaultUser
	}
	if a.Build.Installer == "" {
		// uv: the same real set installs in half the time (BENCHMARKS.md), and it
		// reads pip's index settings (frontend/uvsettings.py).
		a.Build.Installer = InstallerUV
	}
}

// contextPath checks a path (or glob) that must name something inside the build context.
func (p *parser) contextPath(key, value string, glob bool) {
	hint := "use a path relative to the build context, inside it"
	switch {
	case strings.TrimSpace(value) == "":
		p.fail(key, hint, "`%s` is empty", key)
	case path.IsAbs(value):
		p.fail(key, hint, "`%s` is an absolute path (%q)", key, value)
	case path.Clean(value) == ".." || strings.HasPrefix(path.Clean(value), "../"):
		p.fail(key, hint, "`%s` points outside the build context (%q)", key, value)
	case !glob && strings.ContainsAny(value, "*?["):
		p.fail(key, "name each requirement file; globs are not expanded here", "`%s` is a glob (%q)", key, value)
	}
}

func (p *parser) requirements(key string, specs []string) {
	for i, s := range specs {
		el := fmt.Sprintf("%s[%d]", key, i)
		switch {
		case strings.HasPrefix(strings.TrimSpace(s), "-"):
			p.fail(el, "pip options belong in [build] (index_url, extra_index_urls, find_links, no_deps) or in a requirements file",
				"%q in `%s` is a pip option, not a requirement", s, key)
		case !requirementPattern.MatchString(strings.TrimSpace(s)):
			p.fail(el, `write a PEP 508 requirement such as "requests==2.32.3" or "name @ https://..."`,
				"%q in `%s` is not a valid requirement specifier", s, key)
		}
	}
}

func (p *parser) apkNames(key string, names []string) {
	for i, n := range names {
		if !apkPattern.MatchString(n) {
			p.fail(fmt.Sprintf("%s[%d]", key, i), `write Alpine package names such as "libstdc++" or "so:libpq.so.5"`,
				"%q in `%s` is not a valid Alpine package name", n, key)
		}
	}
}

func (p *parser) image(key, ref string) {
	if ref != "" && !imagePattern.MatchString(ref) {
		p.fail(key, `write an image reference such as "registry.example.com/team/acai:3.12"`, "`%s` %q is not a valid image reference", key, ref)
	}
}

func (p *parser) url(key, raw string) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.fail(key, "use an http:// or https:// URL", "`%s` %q is not a package index URL", key, raw)
		return
	}
	if u.User != nil {
		p.fail(key, CredentialsHint(u.Host), "`%s` carries credentials (%s@%s): they would be recorded in the build's provenance", key, u.User.Username(), u.Host)
	}
}

// CredentialsHint says how to pass an index's credentials instead of writing them into a
// URL that build records keep.
func CredentialsHint(host string) string {
	return fmt.Sprintf("write the URL without them and pass them as a secret, which no layer or record keeps: "+
		"a netrc file (machine %s login USER password TOKEN) with --secret id=netrc,src=$HOME/.netrc, "+
		"or a pip.conf with --secret id=pip.conf,src=pip.conf", host)
}

// URLCredentials reports whether raw is a URL with user information (user:token@host).
func URLCredentials(raw string) (host string, ok bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.User == nil || u.Host == "" {
		return "", false
	}
	return u.Host, true
}

func (p *parser) healthcheck(a *Acaifile) {
	h := a.Healthcheck
	_, hasTable := a.Source.KeyRange("healthcheck")
	if hasTable && !h.IsSet() {
		p.fail("healthcheck", `add command = ["python", "-c", "..."] (or "none" to disable an inherited healthcheck)`, "[healthcheck] has no `command`")
		return
	}
	durations := []struct{ key, value string }{
		{"interval", h.Interval}, {"timeout", h.Timeout}, {"start_period", h.StartPeriod}, {"start_interval", h.StartInterval},
	}
	if h.Disabled() {
		for _, d := range durations {
			if d.value != "" {
				p.fail("healthcheck."+d.key, `delete it, or give a command`, "`healthcheck.%s` has no effect: command = \"none\" disables the healthcheck", d.key)
			}
		}
		if h.Retries != 0 {
			p.fail("healthcheck.retries", `delete it, or give a command`, "`healthcheck.retries` has no effect: command = \"none\" disables the healthcheck")
		}
		return
	}
	for _, d := range durations {
		if d.value == "" {
			continue
		}
		v, err := time.ParseDuration(d.value)
		switch {
		case err != nil:
			p.fail("healthcheck."+d.key, `write a duration such as "30s", "1m30s" or "500ms"`, "`healthcheck.%s` %q is not a duration", d.key, d.value)
		case v < time.Millisecond:
			p.fail("healthcheck."+d.key, `use at least "1ms", or leave it out for the default`, "`healthcheck.%s` %q is less than 1ms", d.key, d.value)
		}
	}
	if h.Retries < 0 {
		p.fail("healthcheck.retries", "use 0 or more", "`healthcheck.retries` is negative (%d)", h.Retries)
	}
}

// signalNames are the Linux signal names STOPSIGNAL takes (with or without "SIG").
var signalNames = strings.Fields(`HUP INT QUIT ILL TRAP ABRT IOT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM
	STKFLT CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO POLL PWR SYS RTMIN RTMAX`)

var rtSignalPattern = regexp.MustCompile(`^RTM(IN\+([1-9]|1[0-5])|AX-([1-9]|1[0-4]))$`)

func (p *parser) stopSignal(sig string) {
	if sig == "" {
		return
	}
	name := strings.TrimPrefix(strings.ToUpper(sig), "SIG")
	if n, err := strconv.Atoi(sig); err == nil {
		if n >= 1 && n <= 64 {
			return
		}
	} else if slices.Contains(signalNames, name) || rtSignalPattern.MatchString(name) {
		return
	}
	p.fail("stop_signal", `use a signal name such as "SIGTERM", "SIGINT" or "SIGQUIT", or a number from 1 to 64`, "`stop_signal` %q is not a signal", sig)
}

// oneOf checks a key that takes one of a few words: empty is the first (the default),
// anything else fails with the words to use.
func (p *parser) oneOf(key string, value *string, words ...string) {
	switch {
	case *value == "":
		*value = words[0]
	case !slices.Contains(words, *value):
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = strconv.Quote(w)
		}
		p.fail(key, "use "+strings.Join(quoted[:len(quoted)-1], ", ")+" or "+quoted[len(quoted)-1], "unknown `%s` %q", key, *value)
	}
}
