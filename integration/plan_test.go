package integration

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/acai-build/acai/integration/testbed"
	"github.com/acai-build/acai/spec"
)

// Know before you build: acai resolves the requirements for the target (Alpine's
// musllinux_1_2 wheels on the target's architecture, the Acaifile's Python) before it
// builds, and the builder gets exactly what that resolution needs.

// planAnswer is --call plan's JSON.
type planAnswer []struct {
	Platform string `json:"platform"`
	Resolved bool   `json:"resolved"`
	Plan     struct {
		Target   struct{ Arch, Python string } `json:"target"`
		Packages []struct {
			Name, Version, Source, Wheel string
		} `json:"packages"`
		SourceBuilds []struct {
			Name  string `json:"name"`
			Known bool   `json:"known"`
		} `json:"source_builds"`
	} `json:"plan"`
	Builder []string `json:"builder_apk"`
	Runner  []string `json:"runner_apk"`
}

// --call plan for both architectures at once, of a mix of real wheels (numpy, PyYAML)
// and a real source build (awslambdaric 3.1.1): every wheel acai names is a pinned
// musllinux_1_2 file of that architecture, the source build is marked with what acai
// adds, and the text says the same. The arm64 resolution runs on this amd64 machine's
// build platform: nothing arm64 executes.
func TestCallPlanOnTwoArchitectures(t *testing.T) {
	t.Parallel()
	dir := project(t, "python = \"3.12\"\nrequirements = \"requirements.txt\"\n",
		map[string]string{"requirements.txt": "awslambdaric==3.1.1\nnumpy==2.4.6\nPyYAML==6.0.3\n"})
	var answer planAnswer
	o := standinBuild(t, dir)
	o.Opts = map[string]string{"requestid": "frontend.plan", "platform": "linux/amd64,linux/arm64"}
	res := mustBuild(t, bed.BuildInProcess, o)
	if err := json.Unmarshal([]byte(res.Response["result.json"]), &answer); err != nil {
		t.Fatalf("no plan answer: %v (%v)", err, res.Response)
	}
	if len(answer) != 2 {
		t.Fatalf("%d platforms in the plan, want 2: %s", len(answer), res.Response["result.json"])
	}
	pinned := map[string]bool{}
	for _, f := range bed.Index.Lock.Files {
		pinned[f.Filename] = true
	}
	for i, arch := range []string{"x86_64", "aarch64"} {
		p := answer[i]
		wantEqual(t, "platform", p.Platform, map[string]string{"x86_64": "linux/amd64", "aarch64": "linux/arm64"}[arch])
		wantEqual(t, "target", p.Plan.Target.Arch+" "+p.Plan.Target.Python, arch+" 3.12")
		wheels := map[string]string{}
		for _, pkg := range p.Plan.Packages {
			wheels[pkg.Name] = pkg.Wheel
			if pkg.Wheel == "" {
				continue
			}
			if !pinned[pkg.Wheel] || !strings.Contains(pkg.Wheel, "musllinux_1_2_"+arch) && !strings.HasSuffix(pkg.Wheel, "-none-any.whl") {
				t.Errorf("%s: %s resolves to %s, not a pinned musllinux_1_2_%s wheel", arch, pkg.Name, pkg.Wheel, arch)
			}
		}
		wantEqual(t, arch+" numpy", wheels["numpy"], "numpy-2.4.6-cp312-cp312-musllinux_1_2_"+arch+".whl")
		wantEqual(t, arch+" pyyaml", wheels["pyyaml"], "pyyaml-6.0.3-cp312-cp312-musllinux_1_2_"+arch+".whl")
		wantEqual(t, arch+" awslambdaric", wheels["awslambdaric"], "")
		if len(p.Plan.SourceBuilds) != 1 || p.Plan.SourceBuilds[0].Name != "awslambdaric" || !p.Plan.SourceBuilds[0].Known {
			t.Errorf("%s: source builds %+v, want awslambdaric, known", arch, p.Plan.SourceBuilds)
		}
		wantSlice(t, arch+" builder", p.Builder, []string{"build-base", "linux-headers", "autoconf", "automake", "libtool", "cmake", "make", "elfutils-dev"})
		wantSlice(t, arch+" runner", p.Runner, []string{"libstdc++"})
	}
	wantContains(t, "text", res.Response["result.txt"],
		"linux/arm64: resolved for musllinux_1_2_aarch64, CPython 3.12",
		"awslambdaric  3.1.1       builds from source (no musllinux_1_2_aarch64 wheel)",
		"numpy         2.4.6       wheel cp312-cp312-musllinux_1_2_aarch64",
		"builder adds: autoconf automake libtool cmake make elfutils-dev (for awslambdaric 3.1.1: builds its bundled aws-lambda-cpp and curl with autotools and cmake)",
		"runner adds: libstdc++ (for awslambdaric 3.1.1)",
		// Resolving awslambdaric's dependencies would build it: the named requirements only.
		"(the named requirements only: the dependencies of what builds from source are resolved once it is built)")
	// (Had it run on arm64, it would have failed: this machine has no emulator for it.)
	wantContains(t, "progress", res.Log, "[resolve] resolve -r requirements.txt for musllinux_1_2_aarch64, CPython 3.12")
}

// --call plan reads the requirement files and what they include, not the app: the
// resolve's inputs come from those reads, so the build context is never uploaded for a
// plan (and a build's resolve does not wait for the app's upload).
func TestCallPlanDoesNotUploadTheApp(t *testing.T) {
	t.Parallel()
	dir := project(t, "python = \"3.12\"\nrequirements = \"requirements.txt\"\n", map[string]string{
		"requirements.txt": "-r base.txt\nPyYAML==6.0.3\n",
		"base.txt":         "numpy==2.4.6\n",
		"app/main.py":      "print('hello')\n",
	})
	o := standinBuild(t, dir)
	o.Opts = map[string]string{"requestid": "frontend.plan"}
	res := mustBuild(t, bed.BuildInProcess, o)
	var answer planAnswer
	if err := json.Unmarshal([]byte(res.Response["result.json"]), &answer); err != nil || len(answer) != 1 {
		t.Fatalf("no plan answer: %v (%v)", err, res.Response)
	}
	var names []string
	for _, pkg := range answer[0].Plan.Packages {
		names = append(names, pkg.Name+" "+pkg.Version)
	}
	wantSlice(t, "resolved", names, []string{"numpy 2.4.6", "pyyaml 6.0.3"})
	wantContains(t, "progress", res.Log, "[internal] load requirement files", "[internal] load included requirement files")
	if strings.Contains(res.Log, "[internal] load build context") {
		t.Errorf("--call plan uploaded the build context:\n%s", res.Log)
	}
}

// --check warns at the requirement's line for each package that compiles on Alpine.
func TestCheckWarnsWhatCompilesOnAlpine(t *testing.T) {
	t.Parallel()
	dir := project(t, "requirements = \"requirements.txt\"\n",
		map[string]string{"requirements.txt": "numpy==2.4.6\nawslambdaric==3.1.1\n"})
	var results struct {
		Warnings []struct {
			RuleName string
			Detail   string
			Location struct {
				SourceIndex int32
				Ranges      []struct{ Start struct{ Line int32 } }
			}
		}
		Sources []struct{ Filename string }
	}
	subrequest(t, dir, "frontend.lint", &results)
	var found []string
	for _, w := range results.Warnings {
		if w.RuleName == "CompilesOnAlpine" {
			found = append(found, w.Detail)
			wantEqual(t, "file", results.Sources[w.Location.SourceIndex].Filename, "requirements.txt")
			wantEqual(t, "line", int(w.Location.Ranges[0].Start.Line), 2)
		}
	}
	if len(found) != 1 || !strings.Contains(found[0], "awslambdaric 3.1.1 has no musllinux_1_2_x86_64 wheel") {
		t.Errorf("CompilesOnAlpine findings: %q, want one for awslambdaric", found)
	}
}

// A package with no musllinux wheel that acai knows nothing about compiles with the
// toolchain alone; when that fails, the build's output names it, says it had no wheel
// for the target, and points at [build].apk. The package is made by the test (its
// property: a C extension that needs a library no one installs), named so.
func TestUnknownSourceBuildFailureNamesThePackage(t *testing.T) {
	// Not in parallel: its builder step (build-base linux-headers alone) is the same
	// vertex as another build's that compiles something else, and BuildKit shows a
	// shared vertex under the name the first build gave it; this test reads the name.
	if err := bed.Index.PublishSdist(testbed.Sdist{Name: "acai-test-needs-libmissing", Version: "1.0", Files: map[string]string{
		"setup.py": "from setuptools import setup, Extension\n" +
			"setup(name='acai-test-needs-libmissing', version='1.0', ext_modules=[Extension('needs_libmissing', ['needs_libmissing.c'], libraries=['missing'])])\n",
		"needs_libmissing.c": "#include <Python.h>\n#include <acai_missing.h>\n",
		"pyproject.toml":     "[build-system]\nrequires = [\"setuptools\"]\nbuild-backend = \"setuptools.build_meta\"\n",
	}}); err != nil {
		t.Fatal(err)
	}
	dir := project(t, bed.WithSyntax("requirements = \"requirements.txt\"\n"),
		map[string]string{"requirements.txt": "acai-test-needs-libmissing==1.0\n"})
	res, err := bed.BuildWithBuildctl(testContext(t), standinBuild(t, dir))
	if err == nil {
		t.Fatal("a C extension against a missing header built")
	}
	wantContains(t, "buildctl output", res.Log,
		"[builder] apk add --no-cache build-base linux-headers (to compile acai-test-needs-libmissing 1.0)",
		"acai_missing.h",
		"acai: these packages have no musllinux_1_2_x86_64 wheel for CPython 3.12 and were compiled from source:",
		"acai-test-needs-libmissing 1.0 (acai knows no build packages for it)",
		"add the Alpine packages it needs (its -dev libraries) to [build].apk",
		`>>> requirements = "requirements.txt"`)
}

// A pylock.toml of a package with no musllinux wheel (awslambdaric 3.1.1, locked by its
// sdist's hash) is planned as a source build before the build, and built the way a
// requirement file's is: its wheel compiles in a stage of its own (shared with every
// other project that needs it), and its layer installs that wheel, so no install
// compiles and the builder of the installs gets no toolchain; the compiled extension
// imports in the image.
func TestPylockSourceBuildTakesItsWheel(t *testing.T) {
	t.Parallel()
	dir := project(t, "lock = \"pylock.toml\"\nentrypoint = [\"python\", \"-c\", \"import runtime_client, numpy; print('lock wheel', numpy.__version__)\"]\n",
		map[string]string{"requirements.in": "awslambdaric==3.1.1\nsimplejson==4.3.0\nsnapshot-restore-py==1.0.0\nnumpy==2.4.6\n"})
	// Universal, with the files' hashes (the test bed's index serves none: uv computes
	// them) and each package's index, as `uv export --format pylock.toml` writes a lock of
	// index packages (uv pip compile writes no index): what makes a pylock.toml's
	// packages layers of their own. Universal, it has the glibc stand-in's files too.
	uvRun(t, dir, "pip", "compile", "--quiet", "--no-deps", "--generate-hashes", "--universal", "--format", "pylock.toml",
		"--python-version", "3.11", "--output-file", "pylock.toml", "requirements.in")
	lock := readHostFile(t, filepath.Join(dir, "pylock.toml"))
	setFile(t, dir, "pylock.toml", regexp.MustCompile(`(?m)^version = (".*")$`).ReplaceAllString(lock, "version = $1\nindex = \""+bed.Index.URL+"\""))
	var answer planAnswer
	res := subrequest(t, dir, "frontend.plan", &answer)
	if len(answer) != 1 || !answer[0].Resolved {
		t.Fatalf("plan: %s", res.Response["result.json"])
	}
	wheels := map[string]string{}
	for _, pkg := range answer[0].Plan.Packages {
		wheels[pkg.Name] = pkg.Wheel
	}
	wantEqual(t, "numpy", wheels["numpy"], "numpy-2.4.6-cp312-cp312-musllinux_1_2_x86_64.whl")
	if w, ok := wheels["awslambdaric"]; !ok || w != "" {
		t.Errorf("awslambdaric: wheel %q (listed %v), want a source build", w, ok)
	}
	wantSlice(t, "runner", answer[0].Runner, []string{"libstdc++"})
	wantContains(t, "progress", res.Log, "[resolve] resolve -r pylock.toml for musllinux_1_2_x86_64, CPython 3.12")
	wantContains(t, "plan", res.Response["result.txt"], "compiles: each in a stage of its own ([wheels]), whose wheel the install takes: awslambdaric 3.1.1\n")

	res = mustBuild(t, bed.BuildInProcess, standinBuild(t, dir))
	wantContains(t, "progress", res.Log, "[wheels] awslambdaric 3.1.1 from its source distribution (pip wheel)",
		"[deps] awslambdaric 3.1.1 (its wheel, compiled from source)", "[deps] numpy 2.4.6")
	for _, s := range res.Steps {
		if strings.HasPrefix(s.Name, "[builder] apk add") && !strings.Contains(s.Name, "(to compile awslambdaric 3.1.1)") {
			t.Errorf("a builder step other than the wheel stage's toolchain: %s", s.Name)
		}
	}
	wantContains(t, "output", run(t, res.Image), "lock wheel 2.4.6")
}

// A requirement file that pins hashes of its own, as `pip-compile --generate-hashes` writes
// it (every file of each pinned version; written here from the pinned set's hashes, as
// the test bed's index serves none), with an --extra-index-url line: each package is a
// layer of its own, installed by its line of the file (checked against its hashes) from
// where the file says (extrapkg is only on the extra index); awslambdaric, which has no
// musllinux wheel, compiles once in its wheel stage, whose wheel its layer installs; the
// installs' builder gets no toolchain.
func TestHashPinnedRequirementFileGetsPackageLayers(t *testing.T) {
	t.Parallel()
	extra := strings.TrimSuffix(bed.Index.URL, "/simple") + "/extra/simple"
	reqs := "# This file is autogenerated by pip-compile with Python 3.12\n--extra-index-url " + extra + "\n\n"
	for _, pin := range [][2]string{{"awslambdaric", "3.1.1"}, {"extrapkg", "1.0"}, {"simplejson", "4.3.0"}, {"snapshot-restore-py", "1.0.0"}} {
		reqs += pin[0] + "==" + pin[1]
		for _, h := range fileHashes(t, pin[0], pin[1]) {
			reqs += " \\\n    --hash=sha256:" + h
		}
		reqs += "\n    # via -r requirements.in\n"
	}
	dir := project(t, "requirements = \"requirements.txt\"\nentrypoint = [\"python\", \"-c\", \"import runtime_client, simplejson, extrapkg; print('hash-pinned', simplejson.__version__)\"]\n",
		map[string]string{"requirements.txt": reqs})

	var answer planAnswer
	res := subrequest(t, dir, "frontend.plan", &answer)
	if len(answer) != 1 || !answer[0].Resolved {
		t.Fatalf("plan: %s", res.Response["result.json"])
	}
	wantContains(t, "plan", res.Response["result.txt"], "compiles: each in a stage of its own ([wheels]), whose wheel the install takes: awslambdaric 3.1.1\n",
		"dependency layers: one per package")

	build := mustBuild(t, bed.BuildInProcess, standinBuild(t, dir))
	wantContains(t, "progress", build.Log, "[wheels] awslambdaric 3.1.1 from its source distribution (pip wheel)",
		"[deps] awslambdaric 3.1.1 (its wheel, compiled from source)", "[deps] simplejson 4.3.0", "[deps] extrapkg 1.0")
	for _, s := range build.Steps {
		if strings.HasPrefix(s.Name, "[builder] apk add") && !strings.Contains(s.Name, "(to compile awslambdaric 3.1.1)") {
			t.Errorf("a builder step other than the wheel stage's toolchain: %s", s.Name)
		}
	}
	layers := layersByHistory(t, build.Image)
	for _, h := range []string{"[deps] simplejson 4.3.0", "[deps] extrapkg 1.0", "[deps] snapshot-restore-py 1.0.0", "[deps] awslambdaric 3.1.1 (its wheel, compiled from source)"} {
		if _, ok := layers[h]; !ok {
			t.Errorf("no layer of its own for %q; the image's history: %v", h, keys(layers))
		}
	}
	wantContains(t, "output", run(t, build.Image), "hash-pinned 4.3.0")

	// simplejson's layer checks the file's hashes: wrong ones fail its step.
	wrong := regexp.MustCompile(`(simplejson==4\.3\.0(?: \\\n    --hash=sha256:[0-9a-f]+)+)`).ReplaceAllStringFunc(reqs, func(m string) string {
		return regexp.MustCompile(`[0-9a-f]{64}`).ReplaceAllString(m, strings.Repeat("0", 64))
	})
	if wrong == reqs {
		t.Fatal("no simplejson hash replaced")
	}
	setFile(t, dir, "requirements.txt", wrong)
	failed, err := bed.BuildInProcess(testContext(t), standinBuild(t, dir))
	if err == nil {
		t.Fatalf("simplejson with wrong hashes installed:\n%s", failed.Log)
	}
	wantContains(t, "the failed step", err.Error(), "simplejson 4.3.0", "hash")
}

// fileHashes are the sha256 of every file of project's version in the test bed's index:
// the pinned PyPI set's, and those the test bed made (extrapkg, on the extra index).
func fileHashes(t *testing.T, project, version string) []string {
	t.Helper()
	var out []string
	for _, f := range bed.Index.Lock.Files {
		if spec.NormalizeName(f.Project) == spec.NormalizeName(project) && f.Version == version {
			out = append(out, f.SHA256)
		}
	}
	made, _ := filepath.Glob(filepath.Join(bed.Index.Dir, "*", "simple", project, project+"-"+version+"-*.whl"))
	for _, m := range made {
		dt, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%x", sha256.Sum256(dt)))
	}
	if len(out) == 0 {
		t.Fatalf("no file of %s %s in the test bed's index", project, version)
	}
	return out
}
