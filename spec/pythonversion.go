package spec

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Where the Python version comes from when the Acaifile does not set `python`
// (Acaifile.PythonFrom), in the order acai looks, as uv does: .python-version, then
// the project's requires-python, then DefaultPython.
const (
	PythonFromVersionFile    = PythonVersionFile
	PythonFromRequiresPython = "pyproject.toml requires-python"
	PythonFromDefault        = "acai's default"
)

// pythonVersionPattern is a Python acai builds: major.minor, or a patch release.
var pythonVersionPattern = regexp.MustCompile(`^(3\.[0-9]+)(\.[0-9]+)?$`)

// alpineVersionPattern is an Alpine release: major.minor.
var alpineVersionPattern = regexp.MustCompile(`^3\.[0-9]+$`)

// choosePython fills a.Python from the project when the Acaifile does not set it: a
// .python-version's first version, else the newest known Python that the project's
// requires-python accepts, else DefaultPython. An unusable entry is an error at its
// line in its file.
func (a *Acaifile) choosePython(files ContextFiles) error {
	if a.Python != "" {
		return nil
	}
	if files.PythonVersion != nil {
		v, err := pythonFromVersionFile(files.PythonVersion)
		if err != nil {
			return err
		}
		if v != "" {
			a.Python, a.PythonFrom = v, PythonFromVersionFile
			return nil
		}
	}
	if rp, rng := requiresPython(files.Pyproject); rp != "" {
		v, err := newestPythonFor(rp)
		if err != nil {
			return &Error{Filename: PyprojectFile, Range: rng, Msg: fmt.Sprintf("requires-python %q: %v", rp, err),
				Hint: "write a PEP 440 specifier such as \">=3.12\", or set `python` in the Acaifile"}
		}
		if v == "" {
			return &Error{Filename: PyprojectFile, Range: rng,
				Msg:  fmt.Sprintf("requires-python %q accepts none of the Pythons acai knows (%s)", rp, strings.Join(PythonVersions(), ", ")),
				Hint: "set `python` in the Acaifile (any version with an official python:X-alpine image) or widen requires-python"}
		}
		a.Python, a.PythonFrom = v, fmt.Sprintf("%s %q", PythonFromRequiresPython, rp)
		return nil
	}
	a.Python, a.PythonFrom = DefaultPython, PythonFromDefault
	return nil
}

// requiresPython is [project].requires-python of a pyproject.toml and where it stands.
func requiresPython(pyproject []byte) (string, Range) {
	var doc struct {
		Project struct {
			RequiresPython string `toml:"requires-python"`
		} `toml:"project"`
	}
	if pyproject == nil || toml.Unmarshal(pyproject, &doc) != nil {
		return "", Range{}
	}
	return strings.TrimSpace(doc.Project.RequiresPython), lineOf(pyproject, "requires-python")
}

// newestPythonFor is the newest known Python (major.minor) with a release that the
// PEP 440 specifier set accepts ("" when none does): the image of a minor version
// carries its newest patch release, so ">=3.12.4" accepts 3.12 and "<3.13" does too.
func newestPythonFor(specifiers string) (string, error) {
	var clauses []versionClause
	for _, s := range strings.Split(specifiers, ",") {
		c, err := parseVersionClause(strings.TrimSpace(s))
		if err != nil {
			return "", err
		}
		clauses = append(clauses, c)
	}
	known := PythonVersions()
	for i := len(known) - 1; i >= 0; i-- {
		minor := versionParts(known[i])
		for patch := 0; patch <= 50; patch++ {
			v := append(slices.Clone(minor), patch)
			if !slices.ContainsFunc(clauses, func(c versionClause) bool { return !c.accepts(v) }) {
				return known[i], nil
			}
		}
	}
	return "", nil
}

// versionClause is one clause of a PEP 440 specifier set, over release numbers only
// (pre-releases and local versions are not Pythons acai builds).
type versionClause struct {
	op       string
	version  []int
	wildcard bool // ==3.12.* and !=3.12.*
}

var versionClausePattern = regexp.MustCompile(`^(~=|===|==|!=|<=|>=|<|>)\s*v?([0-9]+(?:\.[0-9]+)*)(\.\*)?$`)

func parseVersionClause(s string) (versionClause, error) {
	m := versionClausePattern.FindStringSubmatch(s)
	if m == nil {
		return versionClause{}, fmt.Errorf("%q is not a version specifier acai reads (such as >=3.12, <3.14, ~=3.12, ==3.12.*)", s)
	}
	c := versionClause{op: m[1], version: versionParts(m[2]), wildcard: m[3] != ""}
	if c.wildcard && c.op != "==" && c.op != "!=" {
		return versionClause{}, fmt.Errorf("%q: a .* wildcard goes with == or != only", s)
	}
	if c.op == "~=" && len(c.version) < 2 {
		return versionClause{}, fmt.Errorf("%q: ~= needs a version with at least two parts", s)
	}
	return c, nil
}

func (c versionClause) accepts(v []int) bool {
	cmp := compareParts(v, c.version)
	switch c.op {
	case "==", "===":
		if c.wildcard {
			return hasPrefix(v, c.version)
		}
		return cmp == 0
	case "!=":
		if c.wildcard {
			return !hasPrefix(v, c.version)
		}
		return cmp != 0
	case "<=":
		return cmp <= 0
	case ">=":
		return cmp >= 0
	case "<":
		return cmp < 0
	case ">":
		return cmp > 0
	default: // ~=X.Y.Z: >= X.Y.Z and == X.Y.*
		return cmp >= 0 && hasPrefix(v, c.version[:len(c.version)-1])
	}
}

func versionParts(s string) []int {
	var out []int
	for _, p := range strings.Split(s, ".") {
		n, _ := strconv.Atoi(p)
		out = append(out, n)
	}
	return out
}

// compareParts compares release numbers, the shorter padded with zeros (3.12 == 3.12.0).
func compareParts(a, b []int) int {
	for i := 0; i < max(len(a), len(b)); i++ {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return x - y
		}
	}
	return 0
}

func hasPrefix(v, prefix []int) bool {
	padded := append(slices.Clone(v), make([]int, max(0, len(prefix)-len(v)))...)
	return slices.Equal(padded[:len(prefix)], prefix)
}

// validateVersions checks the Python and Alpine versions' form and fills the default
// Alpine release. A version or pairing that the table does not list is not an error:
// the build tries its image (UnlistedBase says so).
func (a *Acaifile) validateVersions(v *parser) {
	m := pythonVersionPattern.FindStringSubmatch(a.Python)
	if m == nil {
		v.fail("python", `write the version as a string, major.minor or a patch release, e.g. python = "3.12" or "3.12.7"; acai knows `+strings.Join(PythonVersions(), ", "),
			"%q is not a Python version acai builds", a.Python)
		return
	}
	if m[2] != "" {
		a.PythonPatch, a.Python = a.Python, m[1]
	}
	if a.Alpine != "" {
		if !alpineVersionPattern.MatchString(a.Alpine) {
			v.fail("alpine", `write the Alpine release as a string, e.g. alpine = "3.24"`, "%q is not an Alpine release", a.Alpine)
		}
		return
	}
	// A patch release's image is python:3.12.7-alpine: docker-library builds each patch
	// release on the Alpine releases supported when it ships, and the tag without one is
	// the newest of those. An unlisted Python gets python:X.Y-alpine the same way.
	if alpines, ok := pythonAlpine[a.Python]; ok && a.PythonPatch == "" {
		a.Alpine = alpines[len(alpines)-1]
	}
}

// UnlistedBase is what acai's version table does not say about the base image ("" when
// the table lists the Python and its Alpine release): the build tries the image anyway.
func (a *Acaifile) UnlistedBase() string {
	alpines, ok := pythonAlpine[a.Python]
	switch {
	case !ok:
		return fmt.Sprintf("Python %s is not in acai's version table (%s)", a.Python, strings.Join(PythonVersions(), ", "))
	case a.Alpine != "" && !slices.Contains(alpines, a.Alpine):
		return fmt.Sprintf("Python %s is not listed with Alpine %s in acai's version table (Alpine %s)", a.Python, a.Alpine, strings.Join(alpines, ", "))
	}
	return ""
}

// NearestBases are the official images acai knows nearest to the Acaifile's versions:
// the newest pairings of the nearest known Pythons (for an error's hint).
func (a *Acaifile) NearestBases() []string {
	known := PythonVersions()
	slices.SortStableFunc(known, func(x, y string) int {
		return abs(compareVersions(x, a.Python)) - abs(compareVersions(y, a.Python))
	})
	var out []string
	for _, p := range known[:min(2, len(known))] {
		alpines := pythonAlpine[p]
		out = append(out, "python:"+p+"-alpine"+alpines[len(alpines)-1])
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// BaseImageError is err, the failed resolution of BaseImage, when the version table
// does not list its version: an error at the line that chose it, naming the image tried
// and the nearest images acai knows. A listed image's failure is the registry's, and
// stays err.
func (a *Acaifile) BaseImageError(err error) error {
	u := a.UnlistedBase()
	if u == "" {
		return err
	}
	key := "python"
	if _, listed := pythonAlpine[a.Python]; listed {
		key = "alpine"
	}
	from := ""
	if a.PythonFrom != "" {
		from = " (python from " + a.PythonFrom + ")"
	}
	return &Error{Filename: a.Source.Filename, Range: a.Source.Locate(key), Key: key,
		Msg:  fmt.Sprintf("%s could not be resolved%s: %s; %v", a.BaseImage(), from, u, err),
		Hint: "use a version whose image exists, e.g. " + strings.Join(a.NearestBases(), " or ")}
}
