package spec

import (
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

// UVImage is the official uv image whose binary installs locked projects (and requirement
// files with installer = "uv"). It is mounted into the install step only, never into an
// image; --build-context ghcr.io/astral-sh/uv:VERSION=... replaces it, as any base image.
const UVImage = "ghcr.io/astral-sh/uv:0.13.9"

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
