package spec

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Rule is a check `--check` runs (and every build reports as warnings).
type Rule struct {
	Name        string
	Description string
}

// URL is where the rule is documented.
func (r Rule) URL() string {
	return "https://github.com/acai-build/acai/blob/main/" + r.Page()
}

// Page is the rule's page in the repository: what it finds, why, a bad and a good Acaifile.
func (r Rule) Page() string {
	return "docs/rules/" + strings.ToLower(r.Name) + ".md"
}

// The rule set. docs/rules/ has a page for each one (Rule.Page); a test keeps the two in step.
var (
	RuleUnpinnedRequirement    = Rule{"UnpinnedRequirement", "Requirements should pin an exact version (==) so that rebuilds install the same code."}
	RuleDevPackageAtRuntime    = Rule{"DevPackageAtRuntime", "Compilers and -dev packages belong in [build].apk, not in the runtime apk list."}
	RuleRunsAsRoot             = Rule{"RunsAsRoot", "The app should not run as root."}
	RuleEndOfLifeBase          = Rule{"EndOfLifeBase", "The Python or Alpine release no longer gets security fixes."}
	RuleDuplicatePackage       = Rule{"DuplicatePackage", "A package is listed more than once."}
	RuleNoDepsUnpinned         = Rule{"NoDepsUnpinned", "With no_deps = true every requirement must be pinned, or the install is not reproducible and may be incomplete."}
	RuleCredentialsInBuildArg  = Rule{"CredentialsInBuildArg", "A PIP_ or UV_ build arg carries credentials; acai does not pass it to the install, because build records keep build args."}
	RuleMissingRequirementFile = Rule{"MissingRequirementFile", "A requirement file named in the Acaifile, or one it includes (-r, -c), is not in the build context."}
	RuleUnlockedProject        = Rule{"UnlockedProject", "The pyproject.toml is installed without a lock: every build resolves its dependencies again, so two builds may install different versions."}
	RuleLargeExcludedDirectory = Rule{"LargeExcludedDirectory", "The build context has no .dockerignore and holds a large directory acai leaves out (a virtual environment, .git, a cache): acai does not send it, but other builds of this directory upload it."}
	RuleUnlistedBase           = Rule{"UnlistedBase", "The Python or Alpine release is not in acai's version table: the build tries its image, and fails at the python line if the registry has none."}
	RuleCompilesOnAlpine       = Rule{"CompilesOnAlpine", "A package has no musllinux wheel for the target, so it compiles from source in the builder: slower builds, and build packages that acai adds or that [build].apk must name."}
)

// Rules lists every rule, in the order findings are reported.
var Rules = []Rule{RuleUnpinnedRequirement, RuleDevPackageAtRuntime, RuleRunsAsRoot, RuleEndOfLifeBase, RuleUnlistedBase,
	RuleDuplicatePackage, RuleNoDepsUnpinned, RuleMissingRequirementFile, RuleCredentialsInBuildArg, RuleUnlockedProject, RuleLargeExcludedDirectory, RuleCompilesOnAlpine}

// credentialNamePattern are build-arg names that hold a secret by their name.
var credentialNamePattern = regexp.MustCompile(`(?i)(PASSWORD|TOKEN|SECRET|_AUTH|CREDENTIAL)`)

// InstallerArg reports whether a build arg configures the installer (PIP_*, UV_*): those
// reach the install step's environment.
func InstallerArg(name string) bool {
	return strings.HasPrefix(name, "PIP_") || strings.HasPrefix(name, "UV_")
}

// CredentialArg reports whether an installer build arg carries credentials: user
// information in one of its URLs, or a name that says it holds a secret.
func CredentialArg(name, value string) bool {
	if !InstallerArg(name) {
		return false
	}
	if credentialNamePattern.MatchString(name) {
		return true
	}
	for _, v := range strings.Fields(value) {
		if _, ok := URLCredentials(v); ok {
			return true
		}
	}
	return false
}

// BuildArgFindings are the findings about build args, which have no Acaifile line.
func BuildArgFindings(args map[string]string) []Finding {
	var out []Finding
	for _, k := range slices.Sorted(maps.Keys(args)) {
		if CredentialArg(k, args[k]) {
			out = append(out, Finding{Rule: RuleCredentialsInBuildArg, Key: "build-arg:" + k,
				Message: fmt.Sprintf("build arg %s carries credentials, so acai does not pass it to the install; build records keep build args: pass them as a secret instead (--secret id=netrc or --secret id=pip.conf)", k)})
		}
	}
	return out
}

// LargeExcludedThreshold is the size from which LargeExcludedDirectory reports a directory.
const LargeExcludedThreshold = 10 << 20

// ExcludedDirectoryFindings are the LargeExcludedDirectory findings for the sizes (in
// bytes) of the directories the app copy leaves out, measured in a context without an
// ignore file. They have no Acaifile line.
func ExcludedDirectoryFindings(sizes map[string]int64) []Finding {
	var out []Finding
	for _, dir := range slices.Sorted(maps.Keys(sizes)) {
		if sizes[dir] >= LargeExcludedThreshold {
			out = append(out, Finding{Rule: RuleLargeExcludedDirectory, Key: "context:" + dir,
				Message: fmt.Sprintf("%s holds %.1f MB and the context has no .dockerignore: acai leaves it out of the image and of its context transfer, but `docker build` of a Dockerfile here and other tools upload it; list it in a .dockerignore", dir, float64(sizes[dir])/(1<<20))})
		}
	}
	return out
}

// ExcludedByName are the patterns that name a path (.git, **/.venv, dist, a virtual
// environment's directory), not a glob (**/*.pyc) or a ! line: those that can be
// directories, which LargeExcludedDirectory measures.
func ExcludedByName(patterns []string) []string {
	var out []string
	for _, p := range patterns {
		if !strings.HasPrefix(p, "!") && !strings.ContainsAny(strings.TrimPrefix(p, "**/"), "*?[") {
			out = append(out, p)
		}
	}
	return out
}

// Finding is one rule broken at one place of the Acaifile.
type Finding struct {
	Rule    Rule
	Message string
	Key     string // the Acaifile key at fault, e.g. "apk[1]"
	Range   Range  // in the Acaifile, or in File
	File    string // the requirement file the finding is in; "" for the Acaifile
}

// Requirement is one requirement with where it came from, for messages.
type Requirement struct {
	Spec  string
	Where string // "packages" or "requirements.txt:3"
	Key   string // the Acaifile key that brought it in
	File  string // the requirement file it is in, "" for `packages`
	Line  int    // its line there
}

// buildOnly are runtime apk packages that only compile things.
var buildOnly = []string{"build-base", "gcc", "g++", "clang", "make", "cmake", "musl-dev", "linux-headers", "libc-dev", "autoconf", "automake", "pkgconf", "cargo", "rust", "go"}

var (
	pinnedPattern    = regexp.MustCompile(`(===?)\s*[A-Za-z0-9]`)
	namePattern      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*`)
	separatorPattern = regexp.MustCompile(`[-_.]+`)
)

// Lint checks a parsed Acaifile. files holds the content of each requirement file
// found in the build context; a file named by the Acaifile but absent from files is
// missing. now decides which releases have reached their end of life.
func Lint(a *Acaifile, files map[string][]byte, now time.Time) []Finding {
	l := &linter{a: a}
	if a.UnlockedProject {
		l.findings = append(l.findings, Finding{Rule: RuleUnlockedProject, Key: "lock", File: PyprojectFile, Range: lineOf(files[PyprojectFile], "[project]"),
			Message: "pyproject.toml is installed with no lock beside it, its dependencies resolved at build time; lock them (`uv lock`, or `poetry lock`) and commit the lock, which acai then installs exactly"})
	}
	reqs := l.requirements(files)
	for _, r := range reqs {
		if !isPinned(r.Spec) {
			l.addAt(RuleUnpinnedRequirement, r, "%q (%s) does not pin a version; use ==", r.Spec, r.Where)
		}
	}
	for i, p := range a.APK {
		name := apkBaseName(p)
		if strings.HasSuffix(name, "-dev") || slices.Contains(buildOnly, name) {
			l.add(RuleDevPackageAtRuntime, fmt.Sprintf("apk[%d]", i), "%q is a build-time package; move it to [build].apk (runtime libraries are found by auto_deps)", p)
		}
	}
	if a.User == "root" || a.User == "0" || strings.HasPrefix(a.User, "0:") {
		l.add(RuleRunsAsRoot, "user", "the app runs as root; remove `user` to run as the non-root %s", DefaultUser)
	}
	if eol, which := EndOfLife(a.Python, a.Alpine); !eol.IsZero() && now.After(eol) {
		key := "python"
		if strings.HasPrefix(which, "Alpine") {
			key = "alpine"
		}
		l.add(RuleEndOfLifeBase, key, "%s reached its end of life on %s; %s gets no more security fixes", which, eol.Format(time.DateOnly), a.BaseImage())
	}
	if u := a.UnlistedBase(); u != "" {
		key := "python"
		if _, ok := pythonAlpine[a.Python]; ok {
			key = "alpine"
		}
		l.add(RuleUnlistedBase, key, "%s: the build tries %s and fails if the registry has no such image", u, a.BaseImage())
	}
	seen := map[string]Requirement{}
	for _, r := range reqs {
		n := projectName(r.Spec)
		if n == "" {
			continue
		}
		if first, ok := seen[n]; ok {
			l.addAt(RuleDuplicatePackage, r, "%q (%s) is already required by %q (%s)", r.Spec, r.Where, first.Spec, first.Where)
			continue
		}
		seen[n] = r
	}
	apkSeen := map[string]bool{}
	for i, p := range a.APK {
		if apkSeen[apkBaseName(p)] {
			l.add(RuleDuplicatePackage, fmt.Sprintf("apk[%d]", i), "apk package %q is listed twice", p)
		}
		apkSeen[apkBaseName(p)] = true
	}
	if a.Build.NoDeps {
		for _, r := range reqs {
			if !isPinned(r.Spec) {
				l.add(RuleNoDepsUnpinned, "build.no_deps", "no_deps = true but %q (%s) is not pinned", r.Spec, r.Where)
			}
		}
	}
	for i, f := range append(slices.Clone(a.Requirements), a.Test.Requirements...) {
		key := fmt.Sprintf("requirements[%d]", i)
		if i >= len(a.Requirements) {
			key = fmt.Sprintf("test.requirements[%d]", i-len(a.Requirements))
		}
		if _, ok := files[f]; !ok {
			l.add(RuleMissingRequirementFile, key, "requirement file %q is not in the build context (check the path and .dockerignore)", f)
			continue
		}
		for _, inc := range includedFiles(f, files) {
			refs, _ := RequirementRefs(inc, files[inc])
			for _, r := range refs {
				if _, ok := files[r.Paths[0]]; !ok && (r.Kind == RefRequirements || r.Kind == RefConstraints) {
					l.add(RuleMissingRequirementFile, key, "%s:%d: %q names %s, which is not in the build context (check the path and .dockerignore)", r.File, r.Line, r.Text, r.Paths[0])
				}
			}
		}
	}
	return l.findings
}

type linter struct {
	a        *Acaifile
	findings []Finding
}

func (l *linter) add(r Rule, key, format string, args ...any) {
	l.findings = append(l.findings, Finding{Rule: r, Message: fmt.Sprintf(format, args...), Key: key, Range: l.a.Source.Locate(key)})
}

// addAt adds a finding about a requirement where it stands: its requirement file's line,
// or its `packages` entry.
func (l *linter) addAt(r Rule, req Requirement, format string, args ...any) {
	if req.File == "" {
		l.add(r, req.Key, format, args...)
		return
	}
	l.findings = append(l.findings, Finding{Rule: r, Message: fmt.Sprintf(format, args...), Key: req.Key, File: req.File,
		Range: Range{Start: Position{Line: req.Line, Column: 1}, End: Position{Line: req.Line, Column: len(req.Spec) + 1}}})
}

// RequirementFinding is a finding about the project name where the Acaifile asks for
// it: the requirement line that names it, or else the key that installs it (a
// dependency of a dependency, a lock's package): requirements, packages or lock.
func RequirementFinding(a *Acaifile, files map[string][]byte, r Rule, name, msg string) Finding {
	l := &linter{a: a}
	for _, req := range l.requirements(files) {
		if projectName(req.Spec) == NormalizeName(name) {
			l.addAt(r, req, "%s", msg)
			return l.findings[0]
		}
	}
	key := "lock"
	switch {
	case len(a.Requirements) > 0:
		key = "requirements"
	case len(a.Packages) > 0:
		key = "packages"
	}
	l.add(r, key, "%s", msg)
	return l.findings[0]
}

// requirements lists the runtime requirements: inline packages, then the lines of each
// requirement file (options, includes and comments aside).
func (l *linter) requirements(files map[string][]byte) []Requirement {
	var out []Requirement
	for i, p := range l.a.Packages {
		out = append(out, Requirement{Spec: p, Where: "packages", Key: fmt.Sprintf("packages[%d]", i)})
	}
	for i, top := range l.a.Requirements {
		for _, f := range includedFiles(top, files) {
			for n, line := range requirementLines(files[f]) {
				if line != "" {
					out = append(out, Requirement{Spec: line, Where: fmt.Sprintf("%s:%d", f, n+1), Key: fmt.Sprintf("requirements[%d]", i), File: f, Line: n + 1})
				}
			}
		}
	}
	return out
}

// includedFiles is file and the requirement files it includes with -r, at any depth, in
// the order pip reads them (constraint files add no requirements).
func includedFiles(file string, files map[string][]byte) []string {
	var out []string
	var walk func(string)
	walk = func(f string) {
		if slices.Contains(out, f) {
			return
		}
		out = append(out, f)
		refs, _ := RequirementRefs(f, files[f])
		for _, r := range refs {
			if r.Kind == RefRequirements {
				walk(r.Paths[0])
			}
		}
	}
	walk(file)
	return out
}

// requirementLines returns each line's requirement ("" for comments, blanks, options).
func requirementLines(dt []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(dt))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(line), "\\"))
		if _, local := localPath(line); local || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "-") {
			line = "" // a local project is pinned by its own content
		}
		out = append(out, line)
	}
	return out
}

func isPinned(spec string) bool {
	return pinnedPattern.MatchString(spec) || strings.Contains(spec, "@") || strings.Contains(spec, "://")
}

func projectName(spec string) string {
	return strings.ToLower(normalizeName(namePattern.FindString(strings.TrimSpace(spec))))
}

// normalizeName compares project names as pip does (PEP 503), case aside.
func normalizeName(s string) string { return separatorPattern.ReplaceAllString(s, "-") }

// NormalizeName is a project name as PyPI normalizes it (PEP 503).
func NormalizeName(s string) string { return strings.ToLower(normalizeName(s)) }

func apkBaseName(p string) string {
	if i := strings.IndexAny(p, "<>=~"); i >= 0 {
		return p[:i]
	}
	return p
}
