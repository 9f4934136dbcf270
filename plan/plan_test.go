package plan

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acai-build/acai/spec"
)

// testdata/pylock.x86_64.toml is what uv 0.13.9 wrote for
// `uv pip compile --python-platform x86_64-unknown-linux-musl --python-version 3.12`
// of awslambdaric==3.1.1, numpy==2.4.6 and pyyaml==6.0.3 (URLs shortened): uv lists
// only the wheels the target can install.
func readPlan(t *testing.T) *Plan {
	t.Helper()
	data, err := os.ReadFile("testdata/pylock.x86_64.toml")
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := ParsePylock("pylock.toml", data)
	if err != nil {
		t.Fatal(err)
	}
	target, ok := TargetFor("amd64", "3.12")
	if !ok {
		t.Fatal("no target for amd64")
	}
	return Make(target, pkgs)
}

func TestPlanOfAMixOfWheelsAndSourceBuilds(t *testing.T) {
	p := readPlan(t)
	got := map[string]string{}
	for _, pkg := range p.Packages {
		got[pkg.Name] = pkg.WheelTag()
	}
	want := map[string]string{
		"awslambdaric": "", "numpy": "cp312-cp312-musllinux_1_2_x86_64", "pyyaml": "cp312-cp312-musllinux_1_2_x86_64",
		// a platform wheel is preferred over the pure one beside it
		"simplejson": "cp312-cp312-musllinux_1_2_x86_64", "snapshot-restore-py": "py3-none-any",
	}
	for name, tag := range want {
		if got[name] != tag {
			t.Errorf("%s: wheel tag %q, want %q", name, got[name], tag)
		}
	}
	if len(p.SourceBuilds) != 1 || p.SourceBuilds[0].Name != "awslambdaric" || !p.SourceBuilds[0].Known {
		t.Fatalf("source builds = %+v, want awslambdaric (known)", p.SourceBuilds)
	}
	if b := strings.Join(p.BuildAPK(), " "); b != "build-base linux-headers autoconf automake libtool cmake make elfutils-dev" {
		t.Errorf("builder packages = %s", b)
	}
	if r := strings.Join(p.RuntimeAPK(), " "); r != "libstdc++" {
		t.Errorf("runner packages = %s", r)
	}
	if c := p.Compiled(); !slices.Equal(c, []string{"awslambdaric"}) {
		t.Errorf("compiled = %v", c)
	}
	if pins := string(p.Pins()); !strings.Contains(pins, "awslambdaric==3.1.1\n") || !strings.Contains(pins, "numpy==2.4.6\n") {
		t.Errorf("pins = %s", pins)
	}
	text := p.Text("linux/amd64")
	for _, w := range []string{"resolved for musllinux_1_2_x86_64, CPython 3.12", "awslambdaric         3.1.1       builds from source (no musllinux_1_2_x86_64 wheel)",
		"numpy                2.4.6       wheel cp312-cp312-musllinux_1_2_x86_64", "builder adds: build-base linux-headers (the C toolchain, for awslambdaric 3.1.1)",
		"runner adds: libstdc++ (for awslambdaric 3.1.1)"} {
		if !strings.Contains(text, w) {
			t.Errorf("plan text lacks %q:\n%s", w, text)
		}
	}
}

func TestAllWheelsNeedNoToolchain(t *testing.T) {
	p := Make(Target{Arch: "aarch64", Python: "3.12"}, []Package{{Name: "numpy", Version: "2.4.6", Source: SourceIndex, Wheel: "numpy-2.4.6-cp312-cp312-musllinux_1_2_aarch64.whl"}})
	if len(p.BuildAPK()) != 0 || len(p.SourceBuilds) != 0 {
		t.Errorf("an all-wheel plan adds %v to the builder", p.BuildAPK())
	}
	if !strings.Contains(p.Text("linux/arm64"), "no C toolchain") {
		t.Errorf("text: %s", p.Text("linux/arm64"))
	}
}

// A source build acai knows nothing about gets the toolchain and a finding that says
// what to do, at the requirement's line; a known one's finding names what acai adds.
func TestCompilesOnAlpineFindings(t *testing.T) {
	a, err := spec.Parse("Acaifile", []byte("python = \"3.12\"\nrequirements = \"requirements.txt\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"requirements.txt": []byte("numpy==2.4.6\nacai-test-unknown==1.0\n")}
	p := Make(Target{Arch: "x86_64", Python: "3.12"}, []Package{
		{Name: "acai-test-unknown", Version: "1.0", Source: SourceIndex},
		{Name: "awslambdaric", Version: "3.1.1", Source: SourceIndex},
	})
	f := p.Findings(a, files)
	if len(f) != 2 {
		t.Fatalf("%d findings, want 2", len(f))
	}
	if f[0].File != "requirements.txt" || f[0].Range.Start.Line != 2 || !strings.Contains(f[0].Message, "acai knows no build packages for it: name its libraries in [build].apk") {
		t.Errorf("unknown package finding at %s:%d: %s", f[0].File, f[0].Range.Start.Line, f[0].Message)
	}
	// awslambdaric comes in as a dependency: the finding stands at the Acaifile's key.
	if f[1].File != "" || f[1].Range.Start.Line != 2 || !strings.Contains(f[1].Message, "awslambdaric 3.1.1 has no musllinux_1_2_x86_64 wheel for CPython 3.12: it compiles in the builder, which acai gives build-base linux-headers autoconf") {
		t.Errorf("awslambdaric finding at %s:%d: %s", f[1].File, f[1].Range.Start.Line, f[1].Message)
	}
	if !strings.Contains(p.FailureHint(), "acai-test-unknown 1.0 (acai knows no build packages for it)") {
		t.Errorf("hint: %s", p.FailureHint())
	}
}

// The data file parses, every entry is usable, and the packages the issue names are in it.
func TestSourceBuildsFile(t *testing.T) {
	if _, err := parseSourceBuilds(sourceBuildsTOML); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"awslambdaric", "psycopg2", "mysqlclient", "python-ldap", "pycairo", "pygraphviz", "lxml", "Pillow", "cffi", "uWSGI", "pyodbc", "gevent"} {
		if _, ok := SourceBuildNeeds(name); !ok {
			t.Errorf("%s is not in source-builds.toml", name)
		}
	}
	if _, err := parseSourceBuilds([]byte("[Pillow]\nwhy = \"x\"\nbuild = [\"jpeg-dev\"]\n")); err == nil || !strings.Contains(err.Error(), "write [pillow]") {
		t.Errorf("an unnormalized name: %v", err)
	}
	if _, err := parseSourceBuilds([]byte("[lxml]\nwhy = \"x\"\nbuidl = [\"x\"]\n")); err == nil {
		t.Errorf("a misspelt key is accepted")
	}
}

// FuzzParsePylock: any resolver output gives packages or an error, never a panic; a
// package listed with a wheel is not a source build.
func FuzzParsePylock(f *testing.F) {
	if data, err := os.ReadFile("testdata/pylock.x86_64.toml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("[[packages]]\nname = \"x\"\nwheels = [{ url = \"http://h/x-1-py3-none-any.whl\" }, { name = \"x-1-cp312-abi3-musllinux_1_2_x86_64.whl\" }]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := ParsePylock("pylock.toml", data)
		if err != nil {
			return
		}
		p := Make(Target{Arch: "x86_64", Python: "3.12"}, pkgs)
		_ = p.Text("linux/amd64")
		_ = p.FailureHint()
		for _, s := range p.SourceBuilds {
			if s.Wheel != "" {
				t.Fatalf("%s has wheel %s but is a source build", s.Name, s.Wheel)
			}
		}
	})
}

// acai's SBOM document says how each package came in: the wheel, or compiled from its
// sdist with the packages acai added; the same plan gives the same bytes.
func TestSPDXMarksSourceBuilds(t *testing.T) {
	p := readPlan(t)
	created := time.Unix(1700000000, 0)
	dt, err := p.SPDX("linux/amd64", created)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		PredicateType string `json:"predicateType"`
		Predicate     struct {
			Packages []struct{ Name, VersionInfo, SourceInfo, Comment string }
		}
	}
	if err := json.Unmarshal(dt, &s); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, pkg := range s.Predicate.Packages {
		got[pkg.Name] = pkg.VersionInfo + ": " + pkg.SourceInfo + " " + pkg.Comment
	}
	for name, want := range map[string]string{
		"awslambdaric": "3.1.1: compiled from its source distribution in the acai builder: no musllinux_1_2_x86_64 wheel for CPython 3.12 built with the Alpine packages build-base linux-headers autoconf",
		"numpy":        "2.4.6: installed from the wheel numpy-2.4.6-cp312-cp312-musllinux_1_2_x86_64.whl",
	} {
		if !strings.HasPrefix(got[name], want) {
			t.Errorf("%s: %q, want it to start %q", name, got[name], want)
		}
	}
	if again, _ := p.SPDX("linux/amd64", created); string(again) != string(dt) {
		t.Errorf("the same plan gave two documents")
	}
}

// A cross build of a plan that compiles is an error at the requirement's line.
func TestCrossError(t *testing.T) {
	a, err := spec.Parse("Acaifile", []byte("requirements = \"requirements.txt\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	e := readPlan(t).CrossError(a, map[string][]byte{"requirements.txt": []byte("numpy==2.4.6\nawslambdaric==3.1.1\n")}, "linux/arm64")
	if e == nil || e.Filename != "requirements.txt" || e.Range.Start.Line != 2 || !strings.Contains(e.Error(), "cannot be cross-built for linux/arm64") {
		t.Errorf("cross error %v", e)
	}
	if e := Make(Target{Arch: "aarch64", Python: "3.12"}, nil).CrossError(a, nil, "linux/arm64"); e != nil {
		t.Errorf("a plan with nothing to compile gave %v", e)
	}
}
