package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acai-build/acai/integration/testbed"
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// project writes an Acaifile and files into a fresh build context.
func project(t *testing.T, acaifile string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	all := map[string]string{"Acaifile": acaifile}
	for k, v := range files {
		all[k] = v
	}
	if err := testbed.WriteFiles(dir, all); err != nil {
		t.Fatal(err)
	}
	return dir
}

// example copies examples/NAME into a fresh build context.
func example(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	if err := testbed.CopyDir(filepath.Join(bed.Repo, "examples", name), dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// standinBuild is a build of the Acaifile in dir on the test bed's stand-ins
// (Bed.StandinBuild): the runner stand-in for python:X-alpineY, the loopback index for PyPI.
func standinBuild(t *testing.T, dir string) testbed.Build {
	t.Helper()
	return bed.StandinBuild(dir, "")
}

func mustBuild(t *testing.T, build func(context.Context, testbed.Build) (*testbed.Result, error), o testbed.Build) *testbed.Result {
	t.Helper()
	res, err := build(testContext(t), o)
	if err != nil {
		t.Fatalf("build failed: %v", err)
	}
	if res.Image != nil {
		t.Cleanup(res.Image.Remove)
	}
	return res
}

func readFile(t *testing.T, img *testbed.Image, p string) string {
	t.Helper()
	dt, err := img.ReadFile(p)
	if err != nil {
		t.Fatalf("%s is not in the image: %v", p, err)
	}
	return string(dt)
}

// run runs the image as `docker run IMAGE args...` does and returns its output.
func run(t *testing.T, img *testbed.Image, args ...string) string {
	t.Helper()
	return mustSucceed(t, fmt.Sprintf("running the image %q", args))(img.Run(testContext(t), args...))
}

// execIn runs argv in the image in place of its entrypoint (docker run --entrypoint).
func execIn(t *testing.T, img *testbed.Image, argv ...string) string {
	t.Helper()
	return mustSucceed(t, fmt.Sprintf("running %q in the image", argv))(img.Exec(testContext(t), argv...))
}

func mustSucceed(t *testing.T, what string) func(string, error) string {
	return func(out string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v\n%s", what, err, out)
		}
		return out
	}
}

func wantContains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, got)
		}
	}
}

func wantEqual[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func wantSlice(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\x00") != strings.Join(want, "\x00") || len(got) != len(want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func readHostFile(t *testing.T, p string) string {
	t.Helper()
	dt, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(dt)
}

func setFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func joinLines(lines []string) string { return strings.Join(lines, "\n") }

// wantSitePackages checks the venv's site-packages: every pattern of installed matches
// something there, no pattern of absent does (a dev group, an editable install's .pth).
func wantSitePackages(t *testing.T, img *testbed.Image, installed, absent []string) {
	t.Helper()
	site := "/opt/venv/lib/python3*/site-packages/"
	for _, p := range installed {
		if !img.Exists(site + p) {
			t.Errorf("%s is not installed", p)
		}
	}
	for _, p := range absent {
		if img.Exists(site + p) {
			t.Errorf("%s is installed", p)
		}
	}
}

// wantNoBuilderPackages: a build whose packages are all wheels gets no toolchain; its
// builder is the Python base as it is (slimming strips in Python, with no binutils).
func wantNoBuilderPackages(t *testing.T, res *testbed.Result) {
	t.Helper()
	if s, ok := res.Step("[builder] apk add"); ok {
		t.Errorf("the builder of an all-wheel build has an apk step: %s", s.Name)
	}
}
