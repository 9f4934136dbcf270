package integration

import (
	"strings"
	"testing"
)

// builderStandin also replaces the builder stage with the builder stand-in (gcc,
// libyaml-dev, scanelf), as --build-context builder=... does for a user with a prebuilt
// ACAI image.
func builderStandin(o map[string]string) map[string]string {
	o["builder"] = "docker-image://" + bed.BuilderStandin
	return o
}

// PyYAML's real sdist (pip's --no-binary, as users do to link the system libyaml) is
// compiled in the generated builder, which has yaml-dev because [build].apk asks for it;
// the scan finds libyaml-0.so.2, which neither the package bundles nor the runner base
// has, so the runner asks apk for exactly its so: provider, next to the explicit apk list.
func TestAutoDepsAddsTheProviderOfALinkedSystemLibrary(t *testing.T) {
	t.Parallel()
	dir := project(t, `python = "3.12"
requirements = "requirements.txt"
apk = ["tzdata"]
entrypoint = ["python", "-c", "import yaml, yaml._yaml; print('libyaml', yaml.__with_libyaml__, yaml._yaml.get_version_string())"]
[build]
apk = ["yaml-dev"]
`, map[string]string{"requirements.txt": pyyamlFromSource})
	res := mustBuild(t, bed.BuildInProcess, standinBuild(t, dir))

	// The stand-in's apk shim recorded what the runner asked for (it is not Alpine's apk).
	wantEqual(t, "apk requests in the runner", readFile(t, res.Image, "/etc/apk/acai-shim-requests"), "tzdata\nyaml\nso:libyaml-0.so.2\n")
	wantContains(t, "the image's output", run(t, res.Image), "libyaml True 0.2.5")
	wantContains(t, "builder apk requests", res.Log, "[builder] apk add --no-cache build-base linux-headers yaml-dev (to compile pyyaml 6.0.3)")

	// (scanelf is in python:alpine, and in its stand-in, so it is no builder leftover.)
	for _, absent := range []string{"/usr/bin/gcc*", "/usr/bin/cc", "/usr/include/yaml.h", "/root/.cache/pip", "/acai", "/opt/venv/bin/pip"} {
		if res.Exists(absent) {
			t.Errorf("%s is in the runner image", absent)
		}
	}
	if !res.Exists("/opt/venv/lib/python3*/site-packages/yaml/_yaml*.so") {
		t.Errorf("the compiled extension is not in /opt/venv")
	}
	if scan, ok := res.Step("[scan]"); !ok || scan.Error != "" {
		t.Errorf("no successful [scan] step in the progress:\n%s", res.Log)
	}
}

// With auto_deps off, only the explicit apk list is asked for; the scan does not run.
func TestAutoDepsOff(t *testing.T) {
	t.Parallel()
	dir := project(t, `requirements = "requirements.txt"
apk = ["yaml"]
[runtime]
auto_deps = false
`, map[string]string{"requirements.txt": pyyamlFromSource})
	o := standinBuild(t, dir)
	builderStandin(o.Contexts)
	res := mustBuild(t, bed.BuildInProcess, o)
	wantEqual(t, "apk requests", readFile(t, res.Image, "/etc/apk/acai-shim-requests"), "yaml\n")
	if _, ok := res.Step("[scan]"); ok {
		t.Errorf("the scan ran with auto_deps = false:\n%s", res.Log)
	}
}

// pyyamlFromSource is a requirement file that compiles PyYAML's real sdist against the
// system libyaml (its wheels bundle their own), as a pip-compile user would write it.
const pyyamlFromSource = "--no-binary pyyaml\nPyYAML==6.0.3\n"

// PyYAML's sdist (--no-binary pyyaml) resolves as a source build, and acai knows what it
// needs (plan/source-builds.toml): the Acaifile names no build package, yet the builder
// gets the toolchain and yaml-dev, so the extension links libyaml as it would on Alpine
// (the stand-in's apk shim installs what acai asks for and nothing else: without yaml-dev
// it compiles without libyaml), and the runner gets libyaml.
func TestKnownSourceBuildGetsItsBuildPackages(t *testing.T) {
	t.Parallel()
	dir := project(t, "requirements = \"requirements.txt\"\nentrypoint = [\"python\", \"-c\", \"import yaml; print('libyaml', yaml.__with_libyaml__)\"]\n",
		map[string]string{"requirements.txt": pyyamlFromSource})
	o := standinBuild(t, dir)
	// The installer's cache mount may hold a PyYAML wheel another build made, and would
	// install it; the cache off (PIP_NO_CACHE_DIR, carried over to uv) compiles afresh.
	o.Args["PIP_NO_CACHE_DIR"] = "1"
	res := mustBuild(t, bed.BuildInProcess, o)
	wantContains(t, "the image's output", run(t, res.Image), "libyaml True")
	wantContains(t, "progress", res.Log, "[builder] apk add --no-cache build-base linux-headers yaml-dev (to compile pyyaml 6.0.3)",
		"[deps] pyyaml 6.0.3 (its wheel, compiled from source)")
	wantContains(t, "warnings", strings.Join(res.Warnings, "\n"),
		"CompilesOnAlpine: pyyaml 6.0.3 has no musllinux_1_2_x86_64 wheel for CPython 3.12: it compiles in the builder, which acai gives build-base linux-headers yaml-dev (its C extension links libyaml); the runner gets yaml (requirements.txt:2)")
	wantEqual(t, "apk requests in the runner", readFile(t, res.Image, "/etc/apk/acai-shim-requests"), "yaml\nso:libyaml-0.so.2\n")
}

func TestUserRootIsAnExplicitChoice(t *testing.T) {
	t.Parallel()
	dir := project(t, "user = \"root\"\nentrypoint = [\"id\"]\n", map[string]string{"app.py": "print('hi')\n"})
	res := mustBuild(t, bed.BuildInProcess, standinBuild(t, dir))
	wantEqual(t, "User", res.Config.Config.User, "root")
	wantContains(t, "id", run(t, res.Image), "uid=0(root)")
	if strings.Contains(readFile(t, res.Image, "/etc/passwd"), "appuser") {
		t.Errorf("appuser was created although user = \"root\"")
	}
}

func TestNumericUserNeedsNoAccount(t *testing.T) {
	t.Parallel()
	dir := project(t, "user = \"4242:4242\"\nentrypoint = [\"id\"]\n", map[string]string{"app.py": "print('hi')\n"})
	res := mustBuild(t, bed.BuildInProcess, standinBuild(t, dir))
	wantEqual(t, "User", res.Config.Config.User, "4242:4242")
	wantContains(t, "id", run(t, res.Image), "uid=4242 gid=4242")
	if _, ok := res.Step("add user"); ok {
		t.Errorf("a user account was created for a numeric user")
	}
}
