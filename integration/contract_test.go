package integration

import (
	"fmt"
	"strings"
	"testing"

	"github.com/acai-build/acai/integration/testbed"
)

// One Acaifile with every key of the contract, and the image property each one shows.
// The base images come from the Acaifile's own image keys here ([build].image,
// [runtime].image), not from named contexts; pip reaches the loopback index only through
// the Acaifile's [build] keys, and each of those keys is the only way to one package.
func TestEveryKeyOfTheContract(t *testing.T) {
	t.Parallel()
	acaifile := fmt.Sprintf(`# syntax=acai/frontend
python = "3.11"
alpine = "3.20"
requirements = ["reqs/base.txt"]
packages = ["cowsay==6.1", "extrapkg==1.0", "flatpkg==1.0", "needsdep==1.0"]
apk = ["ca-certificates"]
entrypoint = "python -m svc \"$GREETING\""
cmd = ["--ignored-by-shell-form"]
workdir = "/srv/svc"
app = ["svc/", "conf/*.ini"]
env = { GREETING = "hello from env" }
user = "svcuser"
expose = [8080, "9090/udp"]
labels = { "org.opencontainers.image.title" = "svc" }

[build]
apk = ["yaml-dev"]
image = %q
index_url = "%s"
extra_index_urls = ["%s/extra/simple"]
find_links = ["%s/flat/"]
no_deps = true
installer = "pip"

[runtime]
auto_deps = true
image = %q
layout = "venv"

[test]
command = ["python", "-c", "import cowsay"]
`, bed.BuilderStandin, bed.Index.URL, bed.Index.Root, bed.Index.Root, bed.RunnerStandin)
	dir := project(t, acaifile, map[string]string{
		"reqs/base.txt":   pyyamlFromSource,
		"svc/__init__.py": "",
		"svc/__main__.py": `import sys, configparser, cowsay, yaml._yaml, extrapkg, flatpkg, needsdep
c = configparser.ConfigParser(); c.read("conf/app.ini")
print(cowsay.get_output_string("cow", sys.argv[1]))
print("libyaml", yaml._yaml.get_version_string(), "mode", c["app"]["mode"], extrapkg.NAME, flatpkg.NAME, needsdep.NAME)
`,
		"conf/app.ini":   "[app]\nmode = production\n",
		"conf/notes.txt": "not selected by app\n",
		"other.txt":      "not selected by app\n",
	})
	res := mustBuild(t, bed.BuildInProcess, testBuildNoOverrides(dir))
	img := res.Image
	cfg := img.Config.Config

	wantSlice(t, "Entrypoint", cfg.Entrypoint, []string{"/bin/sh", "-c", `python -m svc "$GREETING"`})
	wantSlice(t, "Cmd", cfg.Cmd, []string{"--ignored-by-shell-form"})
	wantEqual(t, "WorkingDir", cfg.WorkingDir, "/srv/svc")
	wantEqual(t, "User", cfg.User, "svcuser")
	wantEqual(t, "GREETING", img.Env()["GREETING"], "hello from env")
	wantEqual(t, "ports", fmt.Sprint(cfg.ExposedPorts), "map[8080/tcp:{} 9090/udp:{}]")
	wantEqual(t, "title label", cfg.Labels["org.opencontainers.image.title"], "svc")

	readFile(t, img, "/srv/svc/svc/__main__.py")
	readFile(t, img, "/srv/svc/conf/app.ini")
	for _, absent := range []string{"/srv/svc/conf/notes.txt", "/srv/svc/other.txt", "/srv/svc/reqs", "/srv/svc/Acaifile"} {
		if img.Exists(absent) {
			t.Errorf("%s was copied although `app` does not select it", absent)
		}
	}
	wantContains(t, "/etc/passwd", readFile(t, img, "/etc/passwd"), "svcuser:x:10001:10001:")
	wantEqual(t, "runner apk requests", readFile(t, img, "/etc/apk/acai-shim-requests"), "ca-certificates\nyaml\nso:libyaml-0.so.2\n")
	wantContains(t, "progress", res.Log, "[builder] apk add --no-cache yaml-dev",
		// one layer per package, installed by pip (installer = "pip")
		"[deps] cowsay 6.1", "[deps] extrapkg 1.0", "[deps] flatpkg 1.0", "[deps] needsdep 1.0", "[deps] pyyaml 6.0.3 (its wheel, compiled from source)")
	if strings.Contains(res.Log, "python:3.11-alpine3.20") {
		t.Errorf("the default base image was resolved although both image keys are set:\n%s", res.Log)
	}

	out := run(t, img)
	wantContains(t, "entrypoint output", out, "| hello from env |", "libyaml 0.2.5 mode production extrapkg flatpkg needsdep")
	wantContains(t, "id", execIn(t, img, "id"), "uid=10001(svcuser)")
}

// testBuildNoOverrides builds with nothing but the Acaifile: no named contexts, no
// build args.
func testBuildNoOverrides(dir string) testbed.Build {
	// uv comes from the index the Acaifile names.
	return testbed.Build{Dir: dir}
}
