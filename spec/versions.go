package spec

import (
	"bytes"
	_ "embed"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// versionTable is spec/pythons.toml: the Python releases with official
// python:X-alpineY images, their Alpine pairings and the end of support of each.
type versionTable struct {
	Default string `toml:"default"`
	Python  map[string]struct {
		Alpine    []string       `toml:"alpine"`
		EndOfLife toml.LocalDate `toml:"end_of_life"`
	} `toml:"python"`
	Alpine map[string]struct {
		EndOfLife toml.LocalDate `toml:"end_of_life"`
	} `toml:"alpine"`
}

//go:embed pythons.toml
var pythonsTOML []byte

var (
	// pythonAlpine: each known Python's Alpine releases, oldest first (the last is the default).
	pythonAlpine = map[string][]string{}
	// pythonEndOfLife and alpineEndOfLife: the end of upstream support, YYYY-MM-DD.
	pythonEndOfLife = map[string]string{}
	alpineEndOfLife = map[string]string{}
	// DefaultPython is the Python version used when neither the Acaifile nor the project names one.
	DefaultPython string
)

func init() {
	var t versionTable
	if err := toml.NewDecoder(bytes.NewReader(pythonsTOML)).DisallowUnknownFields().Decode(&t); err != nil {
		panic("spec/pythons.toml: " + err.Error())
	}
	DefaultPython = t.Default
	for v, p := range t.Python {
		pythonAlpine[v], pythonEndOfLife[v] = p.Alpine, p.EndOfLife.String()
	}
	for v, a := range t.Alpine {
		alpineEndOfLife[v] = a.EndOfLife.String()
	}
}

// UVRequirements pins the uv that acai runs (the resolver, and the default installer):
// a requirement line with the hash of every Linux wheel of that version, which the build
// fetches from the user's own Python index (pip --require-hashes).
//
//go:embed uv-wheels.txt
var UVRequirements []byte

// UVVersion is the version UVRequirements pins.
var UVVersion = uvVersion(UVRequirements)

// UVImage is the official uv image of UVVersion: used instead of the wheel when
// [build].uv_image names it, or when a named build context replaces it
// (--build-context ghcr.io/astral-sh/uv:VERSION=...). It is mounted into the steps that
// run uv only, never into an image.
var UVImage = "ghcr.io/astral-sh/uv:" + UVVersion

// uvVersion is the version of the uv==VERSION line of a requirement file.
func uvVersion(reqs []byte) string {
	for _, line := range strings.Split(string(reqs), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "uv=="); ok {
			return strings.Fields(v)[0]
		}
	}
	panic("spec/uv-wheels.txt pins no uv==VERSION")
}

// PythonVersions lists the known Python versions, oldest first.
func PythonVersions() []string {
	vs := make([]string, 0, len(pythonAlpine))
	for v := range pythonAlpine {
		vs = append(vs, v)
	}
	slices.SortFunc(vs, compareVersions)
	return vs
}

// AlpineReleases lists the Alpine releases an official image exists for with python.
func AlpineReleases(python string) []string { return pythonAlpine[python] }

// EndOfLife returns the earlier end of support of the Python and Alpine releases, and
// which of the two it is; zero when the table knows neither.
func EndOfLife(python, alpine string) (time.Time, string) {
	p, _ := time.Parse(time.DateOnly, pythonEndOfLife[python])
	a, _ := time.Parse(time.DateOnly, alpineEndOfLife[alpine])
	if !a.IsZero() && (p.IsZero() || a.Before(p)) { // zero: not in the table
		return a, "Alpine " + alpine
	}
	return p, "Python " + python
}

func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, _ := strconv.Atoi(as[i])
		y, _ := strconv.Atoi(bs[i])
		if x != y {
			return x - y
		}
	}
	return len(as) - len(bs)
}
