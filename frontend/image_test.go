package frontend

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/acai-build/acai/spec"
	"github.com/moby/buildkit/frontend/dockerui"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// The runner's image config, key by key: each image key of the Acaifile and what it
// changes in the config the base image gives, without a daemon. (The integration tests
// build and run the images: TestEveryKeyOfTheContract and the examples' tests.)
var runnerConfigRows = []struct {
	key, acaifile string
	want          func(t *testing.T, cfg dockerspec.DockerOCIImageConfig)
}{
	{"(defaults)", ``, func(t *testing.T, cfg dockerspec.DockerOCIImageConfig) {
		wantEqualSlices(t, "cmd (the base image's)", cfg.Cmd, []string{"python3"})
		wantEqualSlices(t, "env", cfg.Env, []string{"PATH=/opt/venv/bin:/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8",
			"VIRTUAL_ENV=/opt/venv", "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1"})
		wantEqual(t, "workdir", cfg.WorkingDir, "/app")
		wantEqual(t, "user", cfg.User, "appuser")
		wantEqual(t, "acai's version label", cfg.Labels[VersionLabel], Version)
		wantEqual(t, "the base's label", cfg.Labels["from.base"], "kept")
	}},
	{"entrypoint (drops the base image's cmd)", `entrypoint = ["python", "-m", "app"]`, func(t *testing.T, cfg dockerspec.DockerOCIImageConfig) {
		wantEqualSlices(t, "entrypoint", cfg.Entrypoint, []string{"python", "-m", "app"})
		wantEqual(t, "cmd", len(cfg.Cmd), 0)
	}},
	{"entrypoint as a string (shell form), cmd", "entrypoint = \"exec app\"\ncmd = [\"--port\", \"80\"]", func(t *testing.T, cfg dockerspec.DockerOCIImageConfig) {
		wantEqualSlices(t, "entrypoint", cfg.Entrypoint, []string{"/bin/sh", "-c", "exec app"})
		wantEqualSlices(t, "cmd", cfg.Cmd, []string{"--port", "80"})
	}},
	{"env", "[env]\nLANG = \"en_US.UTF-8\"\nMODE = \"prod\"", func(t *testing.T, cfg dockerspec.DockerOCIImageConfig) {
		wantEqual(t, "LANG (replaced)", envMap(cfg.Env)["LANG"], "en_US.UTF-8")
		wantEqual(t, "MODE", envMap(cfg.Env)["MODE"], "prod")
	}},
	{"workdir, user", "workdir = \"/srv\"\nuser = \"1000:1000\"", func(t *testing.T, cfg dockerspec.DockerOCIImageConfig) {
		wantEqual(t, "workdir", cfg.WorkingDir, "/srv")
		wantEqual(t, "user", cfg.User, "1000:1000")
	}},
	{"expose", `expose = [8080, "53/udp"]`, func(t *testing.T, cfg dockerspec.DockerOCIImageConfig) {
		wantEqual(t, "ports", fmt.Sprint(slices.Sorted(func(yield func(string) bool) {
			for p := range cfg.ExposedPorts {
				if !yield(p) {
					return
				}
			}
		})), "[53/udp 8080/tcp]")
	}},
	{"labels", "[labels]\n\"org.opencontainers.image.title\" = \"app\"", func(t *testing.T, cfg dockerspec.DockerOCIImageConfig) {
		wantEqual(t, "title", cfg.Labels["org.opencontainers.image.title"], "app")
	}},
	{"stop_signal, healthcheck.command, healthcheck.interval, healthcheck.timeout, healthcheck.start_period, healthcheck.start_interval, healthcheck.retries",
		"stop_signal = \"SIGINT\"\n[healthcheck]\ncommand = \"wget -q -O- localhost/health\"\ninterval = \"10s\"\ntimeout = \"3s\"\nstart_period = \"20s\"\nstart_interval = \"2s\"\nretries = 4",
		func(t *testing.T, cfg dockerspec.DockerOCIImageConfig) {
			wantEqual(t, "stop signal", cfg.StopSignal, "SIGINT")
			if cfg.Healthcheck == nil {
				t.Fatal("no healthcheck")
			}
			wantEqualSlices(t, "healthcheck test", cfg.Healthcheck.Test, []string{"CMD-SHELL", "wget -q -O- localhost/health"})
			wantEqual(t, "interval", cfg.Healthcheck.Interval, 10*time.Second)
			wantEqual(t, "timeout", cfg.Healthcheck.Timeout, 3*time.Second)
			wantEqual(t, "start period", cfg.Healthcheck.StartPeriod, 20*time.Second)
			wantEqual(t, "start interval", cfg.Healthcheck.StartInterval, 2*time.Second)
			wantEqual(t, "retries", cfg.Healthcheck.Retries, 4)
		}},
	{"runtime.layout = lambda", "[runtime]\nlayout = \"lambda\"", func(t *testing.T, cfg dockerspec.DockerOCIImageConfig) {
		env := envMap(cfg.Env)
		wantEqual(t, "PATH", env["PATH"], "/var/task/bin:/usr/local/bin:/usr/bin:/bin")
		wantEqual(t, "PYTHONPATH", env["PYTHONPATH"], "/var/task")
		wantEqual(t, "workdir", cfg.WorkingDir, "/var/task")
		if _, ok := env["VIRTUAL_ENV"]; ok {
			t.Error("a Lambda image has VIRTUAL_ENV")
		}
	}},
}

// TestRunnerConfigFollowsTheAcaifile runs runnerConfigRows.
func TestRunnerConfigFollowsTheAcaifile(t *testing.T) {
	base := &dockerspec.DockerOCIImage{Image: ocispecs.Image{Platform: ocispecs.Platform{OS: "linux", Architecture: "amd64"}}}
	base.Config.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"}
	base.Config.Cmd = []string{"python3"}
	base.Config.Labels = map[string]string{"from.base": "kept"}
	for _, c := range runnerConfigRows {
		t.Run(c.key, func(t *testing.T) {
			a, err := spec.Parse("Acaifile", []byte(c.acaifile))
			if err != nil {
				t.Fatal(err)
			}
			conv := &converter{bc: &dockerui.Client{}, spec: a}
			img, err := conv.runnerConfig(base)
			if err != nil {
				t.Fatal(err)
			}
			c.want(t, img.Config)
			if base.Config.Labels[VersionLabel] != "" || len(base.Config.Env) != 2 {
				t.Error("runnerConfig changed the base image's config")
			}
		})
	}
}
