package integration

import (
	"strings"
	"testing"
)

// builderStandin also replaces the builder stage with the builder stand-in (gcc,
// python3-dev, libyaml-dev, scanelf), as --build-context builder=... does for a user
// with a prebuilt ACAI image: the runner stand-in's apk shim cannot install a compiler.
func builderStandin(o map[string]string) map[string]string {
	o["builder"] = "docker-image://" + bed.BuilderStandin
	return o
}

// An sdist's C extension linking libyaml is compiled in the builder; the scan finds
// libyaml-0.so.2, which neither the package bundles nor the runner base has, so the
// runner asks apk for exactly its so: provider, next to the explicit apk list.
func TestAutoDepsAddsTheProviderOfALinkedSystemLibrary(t *testing.T) {
	dir := project(t, `python = "3.12"
packages = ["yamlver==1.0"]
apk = ["tzdata"]
entrypoint = ["python", "-c", "import yamlver; print('libyaml', yamlver.version())"]
`, nil)
	o := standinBuild(t, dir)
	builderStandin(o.Contexts)
	res := mustBuild(t, bed.BuildInProcess, o)

	// The stand-in's apk shim recorded what the runner asked for (it is not Alpine's apk).
	wantEqual(t, "apk requests in the runner", readFile(t, res.Image, "/etc/apk/acai-shim-requests"), "tzdata\nso:libyaml-0.so.2\n")
	wantContains(t, "the image's output", run(t, res.Image), "libyaml 0.2.5")

	for _, absent := range []string{"/usr/bin/scanelf", "/usr/bin/gcc*", "/usr/bin/cc", "/usr/include/yaml.h", "/root/.cache/pip", "/acai", "/opt/venv/bin/pip"} {
		if res.Exists(absent) {
			t.Errorf("%s is in the runner image", absent)
		}
	}
	if !res.Exists("/opt/venv/lib/python3*/site-packages/yamlver*.so") {
		t.Errorf("the compiled extension is not in /opt/venv")
	}
	if scan, ok := res.Step("[scan]"); !ok || scan.Error != "" {
		t.Errorf("no successful [scan] step in the progress:\n%s", res.Log)
	}
}

// With auto_deps off, only the explicit apk list is asked for; the scan does not run.
func TestAutoDepsOff(t *testing.T) {
	dir := project(t, `packages = ["yamlver==1.0"]
apk = ["yaml"]
[runtime]
auto_deps = false
`, nil)
	o := standinBuild(t, dir)
	builderStandin(o.Contexts)
	res := mustBuild(t, bed.BuildInProcess, o)
	wantEqual(t, "apk requests", readFile(t, res.Image, "/etc/apk/acai-shim-requests"), "yaml\n")
	if _, ok := res.Step("[scan]"); ok {
		t.Errorf("the scan ran with auto_deps = false:\n%s", res.Log)
	}
}

func TestUserRootIsAnExplicitChoice(t *testing.T) {
	dir := project(t, "user = \"root\"\nentrypoint = [\"id\"]\n", map[string]string{"app.py": "print('hi')\n"})
	res := mustBuild(t, bed.BuildInProcess, standinBuild(t, dir))
	wantEqual(t, "User", res.Config.Config.User, "root")
	wantContains(t, "id", run(t, res.Image), "uid=0(root)")
	if strings.Contains(readFile(t, res.Image, "/etc/passwd"), "appuser") {
		t.Errorf("appuser was created although user = \"root\"")
	}
}

func TestNumericUserNeedsNoAccount(t *testing.T) {
	dir := project(t, "user = \"4242:4242\"\nentrypoint = [\"id\"]\n", map[string]string{"app.py": "print('hi')\n"})
	res := mustBuild(t, bed.BuildInProcess, standinBuild(t, dir))
	wantEqual(t, "User", res.Config.Config.User, "4242:4242")
	wantContains(t, "id", run(t, res.Image), "uid=4242 gid=4242")
	if _, ok := res.Step("add user"); ok {
		t.Errorf("a user account was created for a numeric user")
	}
}
