package spec

import (
	_ "embed"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The official python:X-alpineY image tags and the end of upstream support of each
// Python and Alpine release. This is the one place to update when new images appear
// (docker-library/python adds each Alpine release, e.g. 3.23 in 2025-12, 3.24 in 2026-06;
// older tags stay pullable).
// Alpine lists are oldest first; the last one is the default pairing.
var pythonAlpine = map[string][]string{
	"3.9":  {"3.17", "3.18", "3.19", "3.20", "3.21", "3.22"},
	"3.10": {"3.17", "3.18", "3.19", "3.20", "3.21", "3.22", "3.23", "3.24"},
	"3.11": {"3.17", "3.18", "3.19", "3.20", "3.21", "3.22", "3.23", "3.24"},
	"3.12": {"3.18", "3.19", "3.20", "3.21", "3.22", "3.23", "3.24"},
	"3.13": {"3.19", "3.20", "3.21", "3.22", "3.23", "3.24"},
	"3.14": {"3.21", "3.22", "3.23", "3.24"},
}

var pythonEndOfLife = map[string]string{
	"3.9": "2025-10-31", "3.10": "2026-10-31", "3.11": "2027-10-31",
	"3.12": "2028-10-31", "3.13": "2029-10-31", "3.14": "2030-10-31",
}

var alpineEndOfLife = map[string]string{
	"3.17": "2024-11-22", "3.18": "2025-05-09", "3.19": "2025-11-01",
	"3.20": "2026-04-01", "3.21": "2026-11-01", "3.22": "2027-05-01",
	"3.23": "2027-11-01", "3.24": "2028-05-01",
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

// DefaultPython is the Python version used when the Acaifile names none.
const DefaultPython = "3.12"

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
// which of the two it is.
func EndOfLife(python, alpine string) (time.Time, string) {
	p, _ := time.Parse(time.DateOnly, pythonEndOfLife[python])
	a, _ := time.Parse(time.DateOnly, alpineEndOfLife[alpine])
	if a.Before(p) {
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
