package frontend

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/acai-build/acai/spec"
)

func parse(t *testing.T, src string) *spec.Acaifile {
	t.Helper()
	a, err := spec.Parse("Acaifile", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestPipCommand(t *testing.T) {
	a := parse(t, `requirements = "requirements.txt"
packages = ["cowsay==6.1"]
[build]
index_url = "https://pypi.example/simple"
extra_index_urls = ["https://extra.example/simple"]
find_links = ["https://wheels.example/"]
no_deps = true
installer = "pip"
`)
	cmd := requirementsCommand(a, a.Requirements, a.Packages)
	args, what := cmd.args, cmd.what
	want := "python -m pip --python /opt/venv/bin/python install --prefer-binary --no-warn-script-location " +
		"--index-url https://pypi.example/simple --extra-index-url https://extra.example/simple " +
		"--find-links https://wheels.example/ --no-deps -r /acai/requirements/requirements.txt cowsay==6.1"
	if got := strings.Join(args, " "); got != want {
		t.Errorf("args = %s\nwant   %s", got, want)
	}
	// pip runs through a shell that points it at a CA bundle secret when one is given.
	if got := cmd.argv(); len(got) < 4 || got[0] != "/bin/sh" || got[3] != "acai-pip" || strings.Join(got[4:], " ") != want {
		t.Errorf("pip argv = %q", got)
	}
	if what != "pip install -r requirements.txt cowsay==6.1" {
		t.Errorf("progress name = %q", what)
	}

	lambda := parse(t, "packages = [\"x==1\"]\n[runtime]\nlayout = \"lambda\"\n")
	args = requirementsCommand(lambda, nil, lambda.Packages).args
	if !strings.Contains(strings.Join(args, " "), "install --target /var/task") {
		t.Errorf("lambda layout args = %q", args)
	}

	// The default installer, uv, runs through the script that carries pip's settings over.
	cmd = requirementsCommand(parse(t, "packages = [\"x==1\"]\n"), nil, []string{"x==1"})
	if got := strings.Join(cmd.argv(), " "); got != "python /acai/uvsettings/uvsettings.py /acai/uv/uv pip install --python /opt/venv/bin/python --compile-bytecode x==1" || cmd.what != "uv pip install x==1" {
		t.Errorf("uv argv = %q, progress name %q", cmd.argv(), cmd.what)
	}
}

// Eject writes the stages acai builds; the integration test builds the result and
// compares it with acai's image.
func TestEjectStages(t *testing.T) {
	df := Eject(parse(t, `requirements = "requirements.txt"
apk = ["libstdc++"]
user = "root"
app = ["src/"]
entrypoint = "python -m app"
[build]
image = "registry.example/acai:3.12"
apk = ["postgresql-dev"]
[runtime]
auto_deps = false
`))
	for _, want := range []string{
		"FROM registry.example/acai:3.12 AS builder\nRUN [\"apk\",\"add\",\"--no-cache\",\"postgresql-dev\"]",
		"FROM builder AS deps",
		"--mount=type=bind,source=requirements.txt,target=/acai/requirements/requirements.txt",
		"FROM python:3.12-alpine3.24 AS runner-base",
		"FROM runner-base AS runner\nRUN <<'ACAI_APK'\nset -- libstdc++",
		"COPY --from=deps /opt/venv /opt/venv\nWORKDIR /app\nCOPY --parents --exclude=Acaifile --exclude=Acaifile.dockerignore --exclude=requirements.txt --exclude=**/.git --exclude=**/.hg",
		"--exclude=.vscode --exclude=Dockerfile src/ /app/",
		"USER root\nENTRYPOINT [\"/bin/sh\",\"-c\",\"python -m app\"]",
	} {
		if !strings.Contains(df, want) {
			t.Errorf("ejected Dockerfile lacks %q:\n%s", want, df)
		}
	}
	for _, absent := range []string{"AS scan", "ACAI_USER"} {
		if strings.Contains(df, absent) {
			t.Errorf("ejected Dockerfile has %q although auto_deps is off and the user is root", absent)
		}
	}
}

func TestEjectHealthcheckAndStopSignal(t *testing.T) {
	out := Eject(parse(t, "stop_signal = \"SIGINT\"\n[healthcheck]\ncommand = [\"python\", \"-c\", \"print(1)\"]\ninterval = \"10s\"\nretries = 4\n"))
	for _, want := range []string{"STOPSIGNAL SIGINT\n", "HEALTHCHECK --interval=10s --retries=4 CMD [\"python\",\"-c\",\"print(1)\"]\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("ejected Dockerfile lacks %q:\n%s", want, out)
		}
	}
	if out := Eject(parse(t, "[healthcheck]\ncommand = \"none\"\n")); !strings.Contains(out, "HEALTHCHECK NONE\n") {
		t.Errorf("ejected Dockerfile lacks HEALTHCHECK NONE:\n%s", out)
	}
	if out := Eject(parse(t, "[healthcheck]\ncommand = \"curl -f http://localhost/ || exit 1\"\n")); !strings.Contains(out, "HEALTHCHECK CMD curl -f http://localhost/ || exit 1\n") {
		t.Errorf("shell form:\n%s", out)
	}
}

// uvsettings.py carries pip's index settings over to uv: pip's environment over its
// pip.conf, uv's own settings over both, flags only when set to a true value.
func TestUVSettingsScript(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "pip.conf")
	if err := os.WriteFile(conf, []byte("[global]\nindex-url = https://conf.example/simple\nextra-index-url =\n  https://a.example/simple\n  https://b.example/simple\nno-cache-dir = false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(extra ...string) string {
		cmd := exec.Command("python3", "-c", uvSettingsScript, "/usr/bin/env")
		cmd.Env = append([]string{"PATH=/usr/bin:/bin", "PIP_CONFIG_FILE=" + conf}, extra...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("uvsettings.py: %v", err)
		}
		var uv []string
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if strings.HasPrefix(line, "UV_") {
				uv = append(uv, line)
			}
		}
		slices.Sort(uv)
		return strings.Join(uv, " | ")
	}
	if got, want := env(), "UV_EXTRA_INDEX_URL=https://a.example/simple https://b.example/simple | UV_INDEX_URL=https://conf.example/simple"; got != want {
		t.Errorf("from pip.conf: %s\nwant %s", got, want)
	}
	if got, want := env("PIP_INDEX_URL=https://env.example/simple", "PIP_NO_CACHE_DIR=1", "UV_EXTRA_INDEX_URL=https://mine.example/simple"), "UV_EXTRA_INDEX_URL=https://mine.example/simple | UV_INDEX_URL=https://env.example/simple | UV_NO_CACHE=1"; got != want {
		t.Errorf("with the environment: %s\nwant %s", got, want)
	}
}

// uv comes from the Python index, hash-checked, in a stage of its own; [build].uv_image
// names an image instead.
func TestEjectFetchesUVFromTheIndex(t *testing.T) {
	fromIndex := Eject(parse(t, "requirements = \"requirements.txt\"\n"))
	for _, want := range []string{
		"FROM builder AS acai-uv",
		"uv==" + spec.UVVersion + " \\\n    --hash=sha256:",
		"python -m pip download --no-deps --only-binary :all: --require-hashes",
		"--mount=from=acai-uv,source=/acai/uv-out,target=/acai/uv",
	} {
		if !strings.Contains(fromIndex, want) {
			t.Errorf("ejected Dockerfile lacks %q:\n%s", want, fromIndex)
		}
	}
	if strings.Contains(fromIndex, "ghcr.io") {
		t.Errorf("uv from the index reaches ghcr.io:\n%s", fromIndex)
	}
	fromImage := Eject(parse(t, "requirements = \"requirements.txt\"\n[build]\nuv_image = \"mirror.example/uv:0.13.9\"\n"))
	if !strings.Contains(fromImage, "--mount=from=mirror.example/uv:0.13.9,source=/,target=/acai/uv") || strings.Contains(fromImage, "AS acai-uv") {
		t.Errorf("[build].uv_image is not what the installs mount:\n%s", fromImage)
	}
	if nothing := Eject(parse(t, "entrypoint = [\"python\"]\n")); strings.Contains(nothing, "AS acai-uv") {
		t.Errorf("nothing to install, and uv is fetched:\n%s", nothing)
	}
}
