package integration

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/acai-build/acai/frontend"
	"github.com/acai-build/acai/integration/testbed"
)

// The ejected Dockerfile, built by BuildKit's own Dockerfile frontend, gives the same
// image config, files and behaviour as the Acaifile built by acai.
func TestEjectedDockerfileBuildsTheSameImage(t *testing.T) {
	t.Parallel()
	acaifile := `python = "3.12"
requirements = "requirements.txt"
packages = ["cowsay==6.1"]
apk = ["tzdata"]
entrypoint = ["python", "-m", "app"]
cmd = ["from the ejected build?"]
env = { MODE = "prod" }
expose = [8080, "53/udp"]
labels = { team = "data" }
stop_signal = "SIGQUIT"
[test]
command = ["python", "-c", "import app"]
[healthcheck]
command = "python -c 'import app'"
interval = "45s"
start_interval = "2s"
retries = 2
`
	dir := project(t, acaifile, map[string]string{
		"requirements.txt": pyyamlFromSource,
		"app/__init__.py":  "",
		"app/__main__.py":  "import sys, os, cowsay, yaml._yaml\nprint(cowsay.get_output_string('cow', sys.argv[1]), os.environ['MODE'], yaml._yaml.get_version_string())\n",
	})
	o := standinBuild(t, dir)
	builderStandin(o.Contexts)
	fromAcai := mustBuild(t, bed.BuildInProcess, o)

	setFile(t, dir, "Dockerfile", eject(t, dir))
	o.Filename = "Dockerfile"
	fromDockerfile := mustBuild(t, bed.BuildWithBuildctl, o)
	wantContains(t, "Dockerfile build progress", fromDockerfile.Log, "[scan", "[runner")

	ac, dc := fromAcai.Config.Config, fromDockerfile.Config.Config
	for _, c := range []struct{ what, acai, dockerfile string }{
		{"Entrypoint", fmt.Sprint(ac.Entrypoint), fmt.Sprint(dc.Entrypoint)},
		{"Cmd", fmt.Sprint(ac.Cmd), fmt.Sprint(dc.Cmd)},
		{"User", ac.User, dc.User},
		{"WorkingDir", ac.WorkingDir, dc.WorkingDir},
		{"Env", fmt.Sprint(fromAcai.Env()), fmt.Sprint(fromDockerfile.Env())},
		{"ExposedPorts", fmt.Sprint(ac.ExposedPorts), fmt.Sprint(dc.ExposedPorts)},
		{"Labels", fmt.Sprint(ac.Labels), fmt.Sprint(dc.Labels)},
		{"StopSignal", ac.StopSignal, dc.StopSignal},
		{"Healthcheck", fmt.Sprintf("%+v", ac.Healthcheck), fmt.Sprintf("%+v", dc.Healthcheck)},
		{"Healthcheck (with StartInterval)", healthcheckJSON(t, fromAcai.Image), healthcheckJSON(t, fromDockerfile.Image)},
		{"files in /app", tree(t, fromAcai.Image, "/app"), tree(t, fromDockerfile.Image, "/app")},
		// The ejected Dockerfile has no resolution, so no wheel stage: uv compiles PyYAML in
		// its install and records that build (uv_build.json), where acai installs the wheel.
		{"files in /opt/venv", tree(t, fromAcai.Image, "/opt/venv"), strings.Replace(tree(t, fromDockerfile.Image, "/opt/venv"), "\nlib/python3.11/site-packages/pyyaml-6.0.3.dist-info/uv_build.json", "", 1)},
		{"/etc/passwd", readFile(t, fromAcai.Image, "/etc/passwd"), readFile(t, fromDockerfile.Image, "/etc/passwd")},
		// The ejected Dockerfile has no resolution: it lacks the runtime package acai adds
		// for PyYAML compiled from source (yaml), which provides the scanned so: name too.
		{"apk requests", readFile(t, fromAcai.Image, "/etc/apk/acai-shim-requests"), strings.Replace(readFile(t, fromDockerfile.Image, "/etc/apk/acai-shim-requests"), "tzdata\n", "tzdata\nyaml\n", 1)},
		{"output", run(t, fromAcai.Image), run(t, fromDockerfile.Image)},
	} {
		if c.acai != c.dockerfile {
			t.Errorf("%s differs:\nacai:       %s\nDockerfile: %s", c.what, c.acai, c.dockerfile)
		}
	}
	wantContains(t, "output", run(t, fromDockerfile.Image), "| from the ejected build? |", "prod 0.2.5")
}

// tree lists the files below dir in the image, one relative path a line.
func tree(t *testing.T, img *testbed.Image, dir string) string {
	t.Helper()
	root := filepath.Join(img.Rootfs(), dir)
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files = append(files, rel)
		return nil
	})
	if err != nil {
		t.Fatalf("listing %s: %v", dir, err)
	}
	sort.Strings(files)
	return strings.Join(files, "\n")
}

// healthcheckJSON is the image config's Healthcheck as JSON, with the fields the Go types
// of go-containerregistry do not know (StartInterval).
func healthcheckJSON(t *testing.T, img *testbed.Image) string {
	t.Helper()
	return jsonField(t, jsonField(t, string(rawConfig(t, img)), "config"), "Healthcheck")
}

// eject is `acai eject` of the project in dir: its Acaifile and context files read from
// the disk as a build reads them from the build context.
func eject(t *testing.T, dir string) string {
	t.Helper()
	dockerfile, err := frontend.EjectFile(context.Background(), filepath.Join(dir, "Acaifile"))
	if err != nil {
		t.Fatal(err)
	}
	return dockerfile
}
