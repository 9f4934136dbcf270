package spec

import (
	"fmt"
	"maps"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
)

var (
	// PEP 508: a project name, optional extras, then a version specifier, URL or markers.
	requirementPattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?\s*(\[[A-Za-z0-9._,\s-]*\])?\s*(([<>=!~]=?|===)\s*[A-Za-z0-9*][^\s,;]*(\s*,\s*([<>=!~]=?|===)\s*[A-Za-z0-9*][^\s,;]*)*|@\s*\S+)?\s*(;.*)?$`)
	// Alpine package names, optionally with a constraint or a so:/cmd:/pc: provider prefix.
	apkPattern     = regexp.MustCompile(`^((so|cmd|pc|py3):)?[A-Za-z0-9][A-Za-z0-9+._-]*(([<>]?=|~|>|<)[A-Za-z0-9._-]+)?$`)
	envKeyPattern  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	userPattern    = regexp.MustCompile(`^([a-z_][a-z0-9_-]{0,31}|[0-9]+(:[0-9]+)?)$`)
	versionPattern = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)
	imagePattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/:@-]*$`)
)

func isNumericUser(u string) bool {
	return u != "" && strings.Trim(u, "0123456789:") == ""
}

// validate checks every rule of the contract, in file order of the keys, and fills the
// defaults. It returns the first problem.
func (a *Acaifile) validate() error {
	v := &parser{src: a.Source}
	a.validateVersions(v)
	for i, r := range a.Requirements {
		v.contextPath(fmt.Sprintf("requirements[%d]", i), r, false)
	}
	v.requirements("packages", a.Packages)
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
	v.url("build.index_url", a.Build.IndexURL)
	for i, u := range a.Build.ExtraIndexURLs {
		v.url(fmt.Sprintf("build.extra_index_urls[%d]", i), u)
	}
	for i, u := range a.Build.FindLinks {
		v.url(fmt.Sprintf("build.find_links[%d]", i), u)
	}
	switch a.Runtime.Layout {
	case "":
		a.Runtime.Layout = LayoutVenv
	case LayoutVenv, LayoutLambda:
	default:
		v.fail("runtime.layout", `use "venv" or "lambda"`, "unknown `runtime.layout` %q", a.Runtime.Layout)
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
	if v.err != nil {
		return v.err
	}
	a.fillDefaults()
	return nil
}

func (a *Acaifile) validateVersions(v *parser) {
	if a.Python == "" {
		a.Python = DefaultPython
	}
	alpines, ok := pythonAlpine[a.Python]
	if !ok {
		hint := "use one of " + strings.Join(PythonVersions(), ", ")
		if !versionPattern.MatchString(a.Python) {
			hint = `write the minor version as a string, e.g. python = "3.12"; ` + hint
		}
		v.fail("python", hint, "there is no official python:%s-alpine image", a.Python)
		return
	}
	if a.Alpine == "" {
		a.Alpine = alpines[len(alpines)-1]
		return
	}
	if !slices.Contains(alpines, a.Alpine) {
		v.fail("alpine", "Python "+a.Python+" images exist for Alpine "+strings.Join(alpines, ", "),
			"there is no official python:%s-alpine%s image", a.Python, a.Alpine)
	}
}

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
	}
}
