package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acai-build/acai/spec"
)

// A check of the examples and the pinned PyPI set, not of acai (which it never runs):
// every example installs from musllinux_1_2 wheels alone on Alpine, on x86_64 and
// aarch64, with the example's Python: pip resolves its requirements (dependencies
// included) for those platforms against the pinned PyPI files on the loopback index,
// wheels only. A package that would compile on Alpine fails the test by name: the
// examples' Acaifiles provide no build packages. acai's own builds of the examples are
// in examples_test.go and cross_test.go.
func TestPinnedSetHasMusllinuxWheelsForEveryExample(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"hello", "lambda", "web"} {
		dir := filepath.Join(bed.Repo, "examples", name)
		a, err := spec.Parse("Acaifile", []byte(readHostFile(t, filepath.Join(dir, "Acaifile"))))
		if err != nil {
			t.Fatalf("examples/%s: %v", name, err)
		}
		var reqs []string
		for _, f := range a.Requirements {
			reqs = append(reqs, requirementLines(t, filepath.Join(dir, f))...)
		}
		reqs = append(reqs, a.Packages...)
		for _, arch := range []string{"x86_64", "aarch64"} {
			t.Run(name+"/"+arch, func(t *testing.T) {
				if len(reqs) == 0 {
					t.Logf("examples/%s: no requirements", name)
					return
				}
				var compiles []string
				for _, r := range reqs {
					if _, err := musllinuxDownload(t, a.Python, arch, "--no-deps", r); err != nil {
						compiles = append(compiles, r)
					}
				}
				if len(compiles) > 0 {
					t.Fatalf("examples/%s: no musllinux_1_2_%s wheel for CPython %s, so these compile on Alpine: %s",
						name, arch, a.Python, strings.Join(compiles, ", "))
				}
				files, err := musllinuxDownload(t, a.Python, arch, reqs...)
				if err != nil {
					t.Fatalf("examples/%s: resolving with dependencies for musllinux_1_2_%s: %v", name, arch, err)
				}
				t.Logf("examples/%s on Alpine %s, CPython %s: all wheels: %s", name, arch, a.Python, strings.Join(files, " "))
			})
		}
	}
}

// musllinuxDownload runs the host's pip to resolve requirements as Alpine's pip would on
// arch (musllinux_1_2 and older tags, CPython py), wheels only, from the loopback index.
// It returns the files pip chose.
func musllinuxDownload(t *testing.T, py, arch string, args ...string) ([]string, error) {
	t.Helper()
	dest := t.TempDir()
	cmd := exec.Command("python3", append([]string{"-m", "pip", "download", "--isolated", "--quiet",
		"--disable-pip-version-check", "--no-cache-dir", "--only-binary=:all:", "--implementation", "cp",
		"--python-version", py, "--platform", "musllinux_1_2_" + arch, "--platform", "musllinux_1_1_" + arch,
		"--index-url", bed.Index.URL, "-d", dest}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, out)
	}
	entries, err := os.ReadDir(dest)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".whl") {
			return nil, fmt.Errorf("pip chose %s, not a wheel", e.Name())
		}
		files = append(files, e.Name())
	}
	return files, nil
}

// requirementLines are a requirement file's requirements, without comments and options.
func requirementLines(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(readHostFile(t, path), "\n") {
		line = strings.TrimSpace(strings.SplitN(line, "#", 2)[0])
		if line != "" && !strings.HasPrefix(line, "-") {
			out = append(out, line)
		}
	}
	return out
}
