package integration

import (
	"context"
	"strings"
	"testing"
)

// --target builder outputs the ACAI image: the Python base plus the toolchain and
// [build].apk. Published, it serves as another project's [build].image.
func TestBuilderTargetIsAPublishableACAIImage(t *testing.T) {
	t.Parallel()
	dir := project(t, "python = \"3.12\"\n[build]\napk = [\"postgresql-dev\"]\n", nil)
	o := standinBuild(t, dir)
	o.Target = "builder"
	o.PushAs = bed.Registry + "/team/acai-builder:3.12"
	res := mustBuild(t, bed.BuildInProcess, o)
	// The runner stand-in's apk shim recorded the toolchain request (Debian is not Alpine:
	// only scanelf, which the shim stashes, was really installed).
	wantEqual(t, "apk requests in the builder", readFile(t, res.Image, "/etc/apk/acai-shim-requests"),
		"build-base\nlinux-headers\ngit\nopenssh-client\nscanelf\npostgresql-dev\n")
	if !res.Exists("/usr/bin/scanelf") {
		t.Errorf("the builder has no scanelf")
	}
	wantSlice(t, "builder Cmd (the base image's)", res.Config.Config.Cmd, []string{"python3"})
	if res.Exists("/opt/venv") {
		t.Errorf("--target builder ran the dependency install")
	}

	app := project(t, "packages = [\"cowsay==6.1\"]\nentrypoint = [\"cowsay\", \"-t\", \"built by the team's ACAI image\"]\n[build]\nimage = \""+o.PushAs+"\"\n", nil)
	res2 := mustBuild(t, bed.BuildInProcess, standinBuild(t, app))
	wantContains(t, "progress", res2.Log, "[builder] FROM "+o.PushAs)
	wantContains(t, "output", run(t, res2.Image), "| built by the team's ACAI image |")
}

// --target test installs the test requirements on top of the runner and runs
// [test].command as the app user; a failing command fails the build.
func TestTestTarget(t *testing.T) {
	t.Parallel()
	files := map[string]string{"hello.py": "GREETING = 'hi'\n"}
	passing := project(t, `packages = ["cowsay==6.1"]
[test]
packages = ["testhelper==1.0"]
command = ["sh", "-c", "python -c 'import testhelper, hello' && id -un > /tmp/test-user && cowsay -t tested > /tmp/test-output"]
`, files)
	o := standinBuild(t, passing)
	o.Target = "test"
	res := mustBuild(t, bed.BuildInProcess, o)
	wantContains(t, "test output", readFile(t, res.Image, "/tmp/test-output"), "| tested |")
	wantEqual(t, "test user", readFile(t, res.Image, "/tmp/test-user"), "appuser\n")
	if step, ok := res.Step("[test] sh -c"); !ok || step.Error != "" {
		t.Errorf("no successful [test] step:\n%s", res.Log)
	}

	// The runner itself never carries the test requirements.
	o.Target = ""
	runner := mustBuild(t, bed.BuildInProcess, o)
	if runner.Exists("/opt/venv/lib/python3*/site-packages/testhelper.py") {
		t.Errorf("the runner image contains a test-only requirement")
	}

	failing := project(t, "[test]\ncommand = [\"python\", \"-c\", \"raise SystemExit('tests failed')\"]\n", files)
	o = standinBuild(t, failing)
	o.Target = "test"
	_, err := bed.BuildInProcess(testContext(t), o)
	if err == nil || !strings.Contains(err.Error(), "tests failed") {
		t.Errorf("a failing test command gave err = %v, want the command's failure", err)
	}
}

func TestUnknownTargetIsAnError(t *testing.T) {
	t.Parallel()
	dir := project(t, "python = \"3.12\"\n", nil)
	o := standinBuild(t, dir)
	o.Target = "runtime"
	_, err := bed.BuildInProcess(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), `unknown target "runtime": an Acaifile builds runner, builder, test`) {
		t.Errorf("err = %v", err)
	}
}
