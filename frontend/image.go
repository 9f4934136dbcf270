package frontend

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/acai-build/acai/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// runnerConfig is the runner's image config: the base image's, with the layout's PATH
// and Python settings, then the Acaifile's entrypoint, cmd, env, workdir, user, ports
// and labels (and --label values, as for a Dockerfile).
// Version is acai's release (v1.2.3), set when the frontend image is built
// (Dockerfile.frontend's ACAI_VERSION); "dev" for a build from a checkout.
var Version = "dev"

// VersionLabel names the acai release that built an image, in its labels.
const VersionLabel = "dev.acai.frontend.version"

func (c *converter) runnerConfig(base *dockerspec.DockerOCIImage) (*dockerspec.DockerOCIImage, error) {
	a := c.spec
	img := cloneConfig(base)
	cfg := &img.Config
	for _, kv := range runtimeEnv(a, envMap(cfg.Env)["PATH"]) {
		setEnv(cfg, kv[0], kv[1])
	}
	for _, k := range slices.Sorted(maps.Keys(a.Env)) {
		setEnv(cfg, k, a.Env[k])
	}
	if a.Entrypoint.IsSet() {
		cfg.Entrypoint = a.Entrypoint.Argv()
		cfg.Cmd = nil // as in a Dockerfile, a new ENTRYPOINT drops the base image's CMD
	}
	if a.Cmd.IsSet() {
		cfg.Cmd = a.Cmd.Argv()
	}
	cfg.WorkingDir = a.Workdir
	cfg.User = a.User
	if len(a.Expose) > 0 && cfg.ExposedPorts == nil {
		cfg.ExposedPorts = map[string]struct{}{}
	}
	for _, p := range a.Expose {
		cfg.ExposedPorts[string(p)] = struct{}{}
	}
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	cfg.Labels[VersionLabel] = Version
	maps.Copy(cfg.Labels, a.Labels)
	maps.Copy(cfg.Labels, c.bc.Labels)
	if a.StopSignal != "" {
		cfg.StopSignal = a.StopSignal
	}
	if a.Healthcheck.IsSet() {
		cfg.Healthcheck = healthcheckConfig(a.Healthcheck)
	}
	return img, nil
}

// healthcheckConfig is the image config's healthcheck, as a Dockerfile's HEALTHCHECK
// writes it: CMD (exec form), CMD-SHELL (shell form) or NONE.
func healthcheckConfig(h spec.Healthcheck) *dockerspec.HealthcheckConfig {
	if h.Disabled() {
		return &dockerspec.HealthcheckConfig{Test: []string{"NONE"}}
	}
	test := append([]string{"CMD"}, h.Command.Args...)
	if h.Command.Shell {
		test = []string{"CMD-SHELL", h.Command.Args[0]}
	}
	interval, timeout, startPeriod, startInterval := h.Durations()
	return &dockerspec.HealthcheckConfig{Test: test, Interval: interval, Timeout: timeout,
		StartPeriod: startPeriod, StartInterval: startInterval, Retries: h.Retries}
}

// runtimeEnv is the environment the layout needs, in order, given the base image's PATH
// (the Dockerfile that eject prints writes "$PATH" instead).
func runtimeEnv(a *spec.Acaifile, basePath string) [][2]string {
	if basePath == "" {
		basePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	env := [][2]string{}
	binDir := spec.VenvDir + "/bin"
	if a.Runtime.Layout == spec.LayoutVenv {
		env = append(env, [2]string{"VIRTUAL_ENV", spec.VenvDir})
	} else {
		binDir = spec.LambdaTaskRoot + "/bin"
		env = append(env, [2]string{"LAMBDA_TASK_ROOT", spec.LambdaTaskRoot}, [2]string{"PYTHONPATH", spec.LambdaTaskRoot})
	}
	return append(env,
		[2]string{"PATH", binDir + ":" + basePath},
		// The app's files belong to root and the app runs as another user, so Python
		// could not write __pycache__ anyway; dependencies were compiled at install time.
		[2]string{"PYTHONDONTWRITEBYTECODE", "1"},
		// Logs reach `docker logs` as they are written.
		[2]string{"PYTHONUNBUFFERED", "1"},
	)
}

func cloneConfig(img *dockerspec.DockerOCIImage) *dockerspec.DockerOCIImage {
	var out dockerspec.DockerOCIImage
	dt, _ := json.Marshal(img)
	_ = json.Unmarshal(dt, &out)
	return &out
}

// orEmptyConfig gives a named context without an image config (a local directory, say)
// the minimal config an image needs.
func orEmptyConfig(img *dockerspec.DockerOCIImage, p ocispecs.Platform) *dockerspec.DockerOCIImage {
	if img != nil {
		return img
	}
	img = &dockerspec.DockerOCIImage{}
	img.Platform = p
	img.RootFS.Type = "layers"
	img.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	return img
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func setEnv(cfg *dockerspec.DockerOCIImageConfig, key, value string) {
	for i, kv := range cfg.Env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			cfg.Env[i] = key + "=" + value
			return
		}
	}
	cfg.Env = append(cfg.Env, key+"="+value)
}

// withConfigEnv gives a state the environment of an image config, so that a step run
// in it sees what the image's processes will.
func withConfigEnv(st llb.State, img *dockerspec.DockerOCIImage) llb.State {
	for _, kv := range img.Config.Env {
		k, v, _ := strings.Cut(kv, "=")
		st = st.AddEnv(k, v)
	}
	return st
}

// proxyEnv passes the proxy build args BuildKit predefines for Dockerfiles to the steps
// that reach the network, without baking them into a cache key.
func proxyEnv(args map[string]string) llb.ProxyEnv {
	get := func(k string) string {
		if v, ok := args[k]; ok {
			return v
		}
		return args[strings.ToLower(k)]
	}
	return llb.ProxyEnv{
		HTTPProxy: get("HTTP_PROXY"), HTTPSProxy: get("HTTPS_PROXY"), FTPProxy: get("FTP_PROXY"),
		NoProxy: get("NO_PROXY"), AllProxy: get("ALL_PROXY"),
	}
}

func pbRange(r spec.Range) *pb.Range {
	return &pb.Range{
		Start: &pb.Position{Line: int32(r.Start.Line), Character: int32(r.Start.Column)},
		End:   &pb.Position{Line: int32(r.End.Line), Character: int32(r.End.Column)},
	}
}
