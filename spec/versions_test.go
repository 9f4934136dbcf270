package spec

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// spec/pythons.toml is the version table: every Python it lists pairs with Alpine
// releases oldest first, each with its own end of life; the default is listed; 3.15,
// released 2026-10, is there.
func TestVersionTableIsConsistent(t *testing.T) {
	if _, ok := pythonAlpine[DefaultPython]; !ok {
		t.Errorf("default %q is not a listed Python", DefaultPython)
	}
	if !slices.Contains(PythonVersions(), "3.15") {
		t.Errorf("Python 3.15 is missing: %v", PythonVersions())
	}
	for _, p := range PythonVersions() {
		alpines := AlpineReleases(p)
		if len(alpines) == 0 || !slices.IsSortedFunc(alpines, compareVersions) {
			t.Errorf("Python %s: Alpine releases %v, want a list oldest first", p, alpines)
		}
		if _, err := time.Parse(time.DateOnly, pythonEndOfLife[p]); err != nil {
			t.Errorf("Python %s has no end of life: %v", p, err)
		}
		for _, a := range alpines {
			if _, err := time.Parse(time.DateOnly, alpineEndOfLife[a]); err != nil {
				t.Errorf("Alpine %s (paired with Python %s) has no end of life: %v", a, p, err)
			}
		}
	}
}

// A Python past its end of life is a warning (EndOfLifeBase) in --check, never an error;
// an unlisted one is a warning (UnlistedBase) that names the image the build tries.
func TestVersionWarnings(t *testing.T) {
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct{ acaifile, rule, want string }{
		{"python = \"3.9\"\nalpine = \"3.22\"\n", "EndOfLifeBase", "Python 3.9 reached its end of life on 2025-10-31; python:3.9-alpine3.22 gets no more security fixes"},
		{"python = \"3.10.19\"\n", "EndOfLifeBase", "Python 3.10 reached its end of life on 2026-10-31; python:3.10.19-alpine gets no more security fixes"},
		{"python = \"3.16\"\n", "UnlistedBase", "Python 3.16 is not in acai's version table (3.9, 3.10, 3.11, 3.12, 3.13, 3.14, 3.15): the build tries python:3.16-alpine"},
		{"python = \"3.14\"\nalpine = \"3.25\"\n", "UnlistedBase", "Python 3.14 is not listed with Alpine 3.25 in acai's version table (Alpine 3.21, 3.22, 3.23, 3.24): the build tries python:3.14-alpine3.25"},
	} {
		a, err := Parse("Acaifile", []byte(c.acaifile))
		if err != nil {
			t.Fatalf("%q: %v", c.acaifile, err)
		}
		var got []string
		for _, f := range Lint(a, nil, now) {
			if f.Rule.Name == c.rule {
				got = append(got, f.Message)
			}
		}
		if len(got) != 1 || !strings.Contains(got[0], c.want) {
			t.Errorf("%q: %s findings %q, want one with %q", c.acaifile, c.rule, got, c.want)
		}
	}
}

// A base image the registry does not have is an error at the python line when the table
// does not list it, naming what was tried and the nearest images acai knows; a listed
// one's failure is the registry's own.
func TestUnlistedBaseImageError(t *testing.T) {
	a, err := Parse("Acaifile", []byte("# syntax=acai/frontend:1\npython = \"3.17\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := a.BaseImageError(errors.New("docker.io/library/python:3.17-alpine: not found")).Error()
	want := "Acaifile:2:10: python:3.17-alpine could not be resolved: Python 3.17 is not in acai's version table (3.9, 3.10, 3.11, 3.12, 3.13, 3.14, 3.15); docker.io/library/python:3.17-alpine: not found; use a version whose image exists, e.g. python:3.15-alpine3.24 or python:3.14-alpine3.24"
	if got != want {
		t.Errorf("error\n%s\nwant\n%s", got, want)
	}
	listed, _ := Parse("Acaifile", []byte("python = \"3.13\"\n"))
	cause := errors.New("registry unreachable")
	if listed.BaseImageError(cause) != cause {
		t.Errorf("a listed image's failure was rewritten: %v", listed.BaseImageError(cause))
	}
}
