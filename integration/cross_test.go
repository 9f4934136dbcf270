package integration

import (
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every platform from one machine, without emulation: for a target platform other than
// the build platform, acai installs the target's wheels from build-platform steps and
// assembles the target's runner without running one of its binaries. This machine is
// amd64 with no arm64 emulator; any arm64 step would fail with "exec format error".

// noArm64Emulator fails the test when an arm64 binfmt_misc handler (QEMU) is
// registered: then an arm64 step would run, and the tests would not show that none does.
func noArm64Emulator(t *testing.T) {
	t.Helper()
	entries, _ := os.ReadDir("/proc/sys/fs/binfmt_misc")
	for _, e := range entries {
		if e.Name() == "register" || e.Name() == "status" {
			continue
		}
		dt, _ := os.ReadFile(filepath.Join("/proc/sys/fs/binfmt_misc", e.Name()))
		if strings.Contains(e.Name(), "aarch64") || strings.Contains(string(dt), "aarch64") {
			t.Fatalf("an arm64 emulator is registered with binfmt_misc (%s): this test shows that acai needs none; run it where none is", e.Name())
		}
	}
}

// --platform linux/amd64,linux/arm64 of an app with real compiled wheels (numpy,
// simplejson) and a runtime package: one index; the arm64 image's extension modules and
// its apk package are aarch64 ELF files, the apk request was made for aarch64 into the
// target's root, its config says arm64, its user was added; the amd64 image runs.
func TestCrossPlatformWithoutEmulation(t *testing.T) {
	t.Parallel()
	noArm64Emulator(t)
	dir := project(t, `python = "3.12"
packages = ["numpy==2.4.6", "simplejson==4.3.0"]
apk = ["libstdc++"]
entrypoint = ["python", "-c", "import numpy, simplejson; print('numpy', numpy.__version__, 'simplejson', simplejson.__version__)"]
`, nil)
	o := standinBuild(t, dir)
	o.Opts = map[string]string{"platform": "linux/amd64,linux/arm64"}
	dest := filepath.Join(t.TempDir(), "oci.tar")
	res, err := bed.BuildToOCI(testContext(t), o, dest)
	if err != nil {
		t.Fatalf("two-platform build: %v", err)
	}
	for _, step := range []string{
		"[deps] uv pip install numpy==2.4.6 simplejson==4.3.0 for musllinux_1_2_aarch64 (cross: wheels only)",
		"[runner] apk add --root /acai/target --arch aarch64 --no-scripts --no-cache libstdc++",
		"[runner] add user appuser",
	} {
		if _, ok := res.Step(step); !ok {
			t.Errorf("no step %q:\n%s", step, res.Log)
		}
	}
	idx := imageIndex(t, dest+".d")

	arm, err := bed.OpenPlatform(idx, "arm64")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(arm.Remove)
	wantEqual(t, "arm64 config", arm.Config.OS+"/"+arm.Config.Architecture, "linux/arm64")
	sitePackages, _ := filepath.Glob(filepath.Join(arm.Rootfs(), "opt/venv/lib/python3*/site-packages"))
	var names []string
	for _, sp := range sitePackages {
		filepath.WalkDir(sp, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && sharedObject(d.Name()) {
				names = append(names, d.Name())
				wantMachine(t, p, elf.EM_AARCH64)
			}
			return err
		})
	}
	wantContains(t, "arm64 extension modules", strings.Join(names, " "), "_speedups.cpython-312-aarch64-linux-musl.so", "_multiarray_umath.cpython-312-aarch64-linux-musl.so")
	libstdcxx, _ := filepath.Glob(filepath.Join(arm.Rootfs(), "usr/lib/aarch64-linux-gnu/libstdc++.so.6.*"))
	if len(libstdcxx) == 0 {
		t.Errorf("the arm64 image has no libstdc++ of its architecture")
	}
	for _, l := range libstdcxx {
		wantMachine(t, l, elf.EM_AARCH64)
	}
	wantContains(t, "arm64 apk log", readFile(t, arm, "etc/apk/acai-shim-log"), "apk add --root /acai/target --arch aarch64 --no-scripts --no-cache libstdc++")
	wantContains(t, "arm64 apk requests", readFile(t, arm, "etc/apk/acai-shim-requests"), "libstdc++")
	wantContains(t, "arm64 /etc/passwd", readFile(t, arm, "etc/passwd"), "appuser:x:10001:10001:")
	wantEqual(t, "arm64 user", arm.Config.Config.User, "appuser")
	// The venv was made on the build platform: its interpreter links are the target's paths.
	if link, err := os.Readlink(filepath.Join(arm.Rootfs(), "opt/venv/bin/python")); err != nil || !strings.Contains(link, "python") {
		t.Errorf("arm64 venv python link %q (%v)", link, err)
	}

	amd, err := bed.OpenPlatform(idx, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(amd.Remove)
	wantEqual(t, "amd64 config", amd.Config.Architecture, "amd64")
	wantEqual(t, "arm64 entrypoint", strings.Join(arm.Config.Config.Entrypoint, " "), strings.Join(amd.Config.Config.Entrypoint, " "))
	wantEqual(t, "arm64 env", strings.Join(arm.Config.Config.Env, " "), strings.Join(amd.Config.Config.Env, " "))
	wantContains(t, "amd64 run", run(t, amd), "numpy 2.4.6 simplejson 4.3.0")
}

// wantMachine checks that an ELF file is built for machine.
func wantMachine(t *testing.T, path string, machine elf.Machine) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	defer f.Close()
	if f.Machine != machine {
		t.Errorf("%s is a %v ELF file, want %v", filepath.Base(path), f.Machine, machine)
	}
}

// A package with no wheel for the target cannot be cross-built: the error names it at
// its requirement line and says what to do. It comes from the resolution, before any
// install.
func TestCrossBuildOfASourceOnlyPackage(t *testing.T) {
	t.Parallel()
	dir := project(t, "python = \"3.12\"\nrequirements = \"requirements.txt\"\n",
		map[string]string{"requirements.txt": "numpy==2.4.6\nawslambdaric==3.1.1\n"})
	o := standinBuild(t, dir)
	o.Opts = map[string]string{"platform": "linux/arm64"}
	_, err := bed.BuildInProcess(testContext(t), o)
	if err == nil {
		t.Fatal("the cross build of a source-only package succeeded")
	}
	wantContains(t, "error", err.Error(), "requirements.txt:2:",
		"awslambdaric 3.1.1 has no musllinux_1_2_aarch64 wheel for CPython 3.12, so it cannot be cross-built for linux/arm64",
		"pin a version that has a musllinux_1_2_aarch64 wheel", "cross = false")
}

// cross = false runs the arm64 steps on arm64, which needs an emulator: here, with none,
// the first of them (the venv) fails, where the same Acaifile with the default builds.
func TestCrossFalseRunsTargetSteps(t *testing.T) {
	t.Parallel()
	noArm64Emulator(t)
	acaifile := "python = \"3.12\"\npackages = [\"simplejson==4.3.0\"]\n"
	o := standinBuild(t, project(t, acaifile+"[build]\ncross = false\n", nil))
	o.Opts = map[string]string{"platform": "linux/arm64"}
	_, err := bed.BuildInProcess(testContext(t), o)
	if err == nil {
		t.Fatal("an arm64 build with cross = false succeeded on a machine with no arm64 emulator")
	}
	wantContains(t, "error", err.Error(), `process "python -m venv --without-pip /opt/venv" did not complete successfully`)

	o = standinBuild(t, project(t, acaifile, nil))
	o.Opts = map[string]string{"platform": "linux/arm64"}
	res := mustBuild(t, bed.BuildInProcess, o)
	wantEqual(t, "default (cross) arm64 build", res.Config.Architecture, "arm64")
}

// The other layouts and inputs cross-build the same way: the Lambda example's task root
// (uv --target) and a uv.lock project (the locked export, then the project itself, built
// as a pure-Python wheel on the build platform) for linux/arm64.
func TestCrossBuildsOfTheLambdaExampleAndAUVProject(t *testing.T) {
	t.Parallel()
	noArm64Emulator(t)
	o := standinBuild(t, example(t, "lambda"))
	o.Opts = map[string]string{"platform": "linux/arm64"}
	res := mustBuild(t, bed.BuildInProcess, o)
	wantEqual(t, "lambda architecture", res.Config.Architecture, "arm64")
	wantAarch64Modules(t, filepath.Join(res.Rootfs(), "var/task"), "numpy", "pandas", "pyarrow")

	o = standinBuild(t, uvProject(t, "lock = \"uv.lock\"\nentrypoint = [\"greet\"]\n[build]\nextras = [\"yaml\"]\n"))
	o.Opts = map[string]string{"platform": "linux/arm64"}
	res = mustBuild(t, bed.BuildInProcess, o)
	wantContains(t, "progress", res.Log, "(uv.lock) for musllinux_1_2_aarch64 (cross: wheels only)", "(the project, non-editable) for musllinux_1_2_aarch64")
	wantSitePackages(t, res.Image, []string{"greeter/__init__.py", "greeter-0.1.0.dist-info", "cowsay-6.1.dist-info", "pyyaml-6.0.3.dist-info"}, nil)
	readFile(t, res.Image, "/opt/venv/bin/greet")
	sp, _ := filepath.Glob(filepath.Join(res.Rootfs(), "opt/venv/lib/python3*/site-packages"))
	if len(sp) != 1 {
		t.Fatalf("site-packages: %v", sp)
	}
	wantAarch64Modules(t, sp[0], "yaml")
}

// wantAarch64Modules checks that every shared object under dir is an aarch64 ELF file, and
// that each named top-level package has one.
func wantAarch64Modules(t *testing.T, dir string, packages ...string) {
	t.Helper()
	found := map[string]bool{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !sharedObject(d.Name()) {
			return err
		}
		wantMachine(t, p, elf.EM_AARCH64)
		rel, _ := filepath.Rel(dir, p)
		found[strings.Split(rel, string(filepath.Separator))[0]] = true
		return nil
	})
	for _, pkg := range packages {
		if !found[pkg] {
			t.Errorf("no shared object in %s/%s", dir, pkg)
		}
	}
}

// sharedObject reports whether a file name is a shared object's: x.so, libx.so.1.
func sharedObject(name string) bool {
	return strings.HasSuffix(name, ".so") || strings.Contains(name, ".so.")
}
