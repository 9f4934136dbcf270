package integration

import (
	"encoding/json"
	"testing"
	"time"
)

// healthcheck and stop_signal land in the image config as a Dockerfile's HEALTHCHECK and
// STOPSIGNAL write them, and the running image answers its own health command; with no
// `python` in the Acaifile, the context's .python-version picks the base image.
func TestHealthcheckStopSignalAndPythonVersionFile(t *testing.T) {
	t.Parallel()
	dir := project(t, `entrypoint = ["python", "-m", "http.server", "8080"]
stop_signal = "SIGINT"
[healthcheck]
command = ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/')"]
interval = "10s"
timeout = "2s"
start_period = "1m"
start_interval = "500ms"
retries = 5
`, map[string]string{".python-version": "# pyenv local\n3.11.9\n", "index.html": "ok\n"})
	o := standinBuild(t, dir)
	// Only python:3.11.9-alpine, the patch release's image .python-version leads to, has
	// a stand-in: had acai picked another, its base image would not resolve and the build
	// would fail.
	o.Contexts = bed.StandinFor("python:3.11.9-alpine")
	res := mustBuild(t, bed.BuildInProcess, o)
	wantContains(t, "progress", res.Log, "[context python:3.11.9-alpine] load metadata")

	cfg := res.Config.Config
	wantEqual(t, "StopSignal", cfg.StopSignal, "SIGINT")
	if cfg.Healthcheck == nil {
		t.Fatalf("no Healthcheck in the image config")
	}
	h := cfg.Healthcheck
	wantSlice(t, "Healthcheck.Test", h.Test, []string{"CMD", "python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/')"})
	wantEqual(t, "Interval", h.Interval, 10*time.Second)
	wantEqual(t, "Timeout", h.Timeout, 2*time.Second)
	wantEqual(t, "StartPeriod", h.StartPeriod, time.Minute)
	wantEqual(t, "Retries", h.Retries, 5)
	var raw struct {
		Config struct {
			Healthcheck struct{ StartInterval time.Duration }
		} `json:"config"`
	}
	if err := json.Unmarshal(rawConfig(t, res.Image), &raw); err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "StartInterval", raw.Config.Healthcheck.StartInterval, 500*time.Millisecond)

	// The health command, run in the image as an engine runs it, passes while the app serves.
	out := execIn(t, res.Image, "sh", "-c", `python -m http.server 8080 >/dev/null 2>&1 & for i in $(seq 50); do
  python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/')" 2>/dev/null && echo healthy && exit 0
  sleep 0.2
done; exit 1`)
	wantContains(t, "health command", out, "healthy")
}

// command = "none" disables a healthcheck the base image defines (HEALTHCHECK NONE); a
// bad .python-version fails at its own line.
func TestHealthcheckNoneAndBadPythonVersionFile(t *testing.T) {
	t.Parallel()
	dir := project(t, "python = \"3.12\"\n[healthcheck]\ncommand = \"none\"\n", nil)
	res := mustBuild(t, bed.BuildInProcess, standinBuild(t, dir))
	if h := res.Config.Config.Healthcheck; h == nil || len(h.Test) != 1 || h.Test[0] != "NONE" {
		t.Errorf("Healthcheck = %+v, want Test [NONE]", h)
	}

	bad := project(t, bed.WithSyntax("# syntax=acai/frontend\nentrypoint = [\"python\"]\n"), map[string]string{".python-version": "3.12\n"})
	setFile(t, bad, ".python-version", "\npypy3.10-7.3.17\n")
	res, err := bed.BuildWithBuildctl(testContext(t), standinBuild(t, bad))
	if err == nil {
		t.Fatal("a .python-version naming PyPy built")
	}
	wantContains(t, "buildctl output", res.Log, `.python-version:2:1: "pypy3.10-7.3.17" is not a CPython 3 version acai can build`, ">>> pypy3.10-7.3.17")
}
