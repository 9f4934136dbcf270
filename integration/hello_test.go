package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acai-build/acai/frontend"
	"github.com/acai-build/acai/integration/testbed"
)

// The user's path: examples/hello with `# syntax=<frontend image>` built by buildctl
// through the Dockerfile frontend, which forwards to the acai image.
func TestHelloExampleThroughSyntaxDirective(t *testing.T) {
	t.Parallel()
	dir := example(t, "hello")
	acaifile, _ := os.ReadFile(filepath.Join(dir, "Acaifile"))
	setFile(t, dir, "Acaifile", bed.WithSyntax(string(acaifile)))

	// buildctl runs dockerfile.v0, which cannot read TOML: an acai image here
	// means the directive ran the frontend image. Its "resolve image config"
	// line is not asserted: BuildKit shows a resolve that concurrent builds
	// share in the first build's progress only.
	res := mustBuild(t, bed.BuildWithBuildctl, standinBuild(t, dir))
	wantContains(t, "progress", res.Log, "[deps] cowsay 6.1", "[runner] copy app")
	checkHelloImage(t, res.Image)
}

// The frontend's Build function in-process, then an app-code-only change: the
// dependency install must come from cache.
func TestHelloExampleInProcessReusesDependencyInstall(t *testing.T) {
	t.Parallel()
	dir := example(t, "hello")
	o := standinBuild(t, dir)
	first := mustBuild(t, bed.BuildInProcess, o)
	checkHelloImage(t, first.Image)

	// New content each run: BuildKit's cache outlives a run (.cache/buildkitd).
	setFile(t, filepath.Join(dir, "hello"), "__main__.py", fmt.Sprintf("print('changed app code %d')\n", time.Now().UnixNano()))
	second := mustBuild(t, bed.BuildInProcess, o)
	install, ok := second.Step("[deps] cowsay 6.1")
	if !ok || !install.Cached {
		t.Errorf("after an app-code change the install step is %+v (found %v), want CACHED; progress:\n%s", install, ok, second.Log)
	}
	if copyApp, _ := second.Step("[runner] copy app"); copyApp.Cached {
		t.Errorf("the app copy was cached although the app changed:\n%s", second.Log)
	}
	wantContains(t, "output of the rebuilt image", run(t, second.Image), "changed app code")
}

func checkHelloImage(t *testing.T, img *testbed.Image) {
	t.Helper()
	cfg := img.Config.Config
	wantSlice(t, "Entrypoint", cfg.Entrypoint, []string{"python", "-m", "hello"})
	wantSlice(t, "Cmd", cfg.Cmd, nil)
	wantEqual(t, "User", cfg.User, "appuser")
	wantEqual(t, "WorkingDir", cfg.WorkingDir, "/app")
	env := img.Env()
	wantEqual(t, "VIRTUAL_ENV", env["VIRTUAL_ENV"], "/opt/venv")
	if !strings.HasPrefix(env["PATH"], "/opt/venv/bin:") {
		t.Errorf("PATH = %q, want the venv's bin first", env["PATH"])
	}
	var history []string
	for _, h := range img.Config.History {
		if h.Comment == "acai" {
			history = append(history, h.CreatedBy)
		}
	}
	wantSlice(t, "acai's image history", history, []string{
		"[runner] apk add --no-cache (+ so: libraries found by [scan])",
		"[runner] add user appuser (uid 10001)",
		// one layer per package (layers.go), the venv's own first
		"[deps] python -m venv --without-pip /opt/venv",
		"[deps] cowsay 6.1",
		"[runner] mkdir /app",
		"[runner] copy app (build context) to /app",
	})
	if _, ok := img.Config.Config.Labels[testbed.StandinLabel]; !ok {
		t.Errorf("the base image's labels were not inherited: %v", img.Config.Config.Labels)
	}
	// Which acai built it: the release the frontend image was built as.
	wantEqual(t, "label "+frontend.VersionLabel, img.Config.Config.Labels[frontend.VersionLabel], testbed.FrontendVersion)

	// Files: the app (minus the Acaifile and .dockerignore'd files), the installed
	// dependency and its console script; no pip inside the venv, no apk request.
	readFile(t, img, "/app/hello/__main__.py")
	for _, absent := range []string{"/app/Acaifile", "/app/README.md", "/app/requirements.txt", "/opt/venv/lib/python3*/site-packages/pip", "/etc/apk/acai-shim-requests"} {
		if img.Exists(absent) {
			t.Errorf("%s is in the runner image", absent)
		}
	}
	if !img.Exists("/opt/venv/lib/python3*/site-packages/cowsay/__init__.py") || !img.Exists("/opt/venv/bin/cowsay") {
		t.Errorf("cowsay or its console script is missing from /opt/venv")
	}
	passwd := readFile(t, img, "/etc/passwd")
	wantContains(t, "/etc/passwd", passwd, "appuser:x:10001:10001:")

	// Running it: the entrypoint imports its dependency from outside the app directory,
	// as the non-root user; the console script is on PATH from any directory.
	out := run(t, img)
	wantContains(t, "entrypoint output", out, "Hello from acai!", "^__^", "from /opt/venv")
	wantContains(t, "id", execIn(t, img, "id"), "uid=10001(appuser)")
	wantContains(t, "console script", execIn(t, img, "sh", "-c", "cd / && cowsay -t moo"), "| moo |")
}
