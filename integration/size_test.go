package integration

import (
	"io"
	"os"
	"strings"
	"testing"

	"github.com/acai-build/acai/integration/testbed"
)

// The same app built by acai and by the hand-written recipe (testdata/handwritten), on
// the same stand-in base images: what each runner adds on top of its base, and what it
// asks apk for. The stand-in's apk shim installs the Debian equivalents of what it is
// asked for (gcc, libc6-dev, libyaml-dev for the hand-written runner's guesses), so the
// byte figures include them, in Debian's sizes, not Alpine's.
func TestRunnerSizeComparison(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"requirements.txt": pyyamlFromSource + "cowsay==6.1\n",
		"app/__init__.py":  "",
		"app/__main__.py":  "import cowsay, yaml._yaml\nprint(cowsay.get_output_string('cow', yaml._yaml.get_version_string()))\n",
	}
	// Both name the same base image: python:3.12-alpine3.24.
	acaiDir := project(t, "python = \"3.12\"\nalpine = \"3.24\"\nrequirements = \"requirements.txt\"\nentrypoint = [\"python\", \"-m\", \"app\"]\n", files)
	o := standinBuild(t, acaiDir)
	builderStandin(o.Contexts)
	acai := mustBuild(t, bed.BuildInProcess, o)

	handDir := t.TempDir()
	if err := testbed.WriteFiles(handDir, files); err != nil {
		t.Fatal(err)
	}
	dockerfile, err := os.ReadFile("testdata/handwritten/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	h := bed.StandinBuild(handDir, "Dockerfile")
	h.Contexts["acai"] = "docker-image://" + bed.BuilderStandin // the recipe's own builder stage
	setFile(t, handDir, "Dockerfile", string(dockerfile))
	hand := mustBuild(t, bed.BuildWithBuildctl, h)

	// Both images work.
	wantContains(t, "acai output", run(t, acai.Image), "| 0.2.5 |")
	wantContains(t, "hand-written output", run(t, hand.Image), "| 0.2.5 |")

	a, hw := layerSizes(t, acai.Image), layerSizes(t, hand.Image)
	aReq := strings.Fields(readFile(t, acai.Image, "/etc/apk/acai-shim-requests"))
	hReq := strings.Fields(readFile(t, hand.Image, "/etc/apk/acai-shim-requests"))
	t.Logf("runner size comparison (stand-in base: %d bytes uncompressed)", a.base)
	t.Logf("%-12s %14s %14s %14s  %s", "", "added (tar)", "added (gzip)", "total (tar)", "apk add requests")
	t.Logf("%-12s %14d %14d %14d  %s", "acai", a.added, a.addedGz, a.base+a.added, strings.Join(aReq, " "))
	t.Logf("%-12s %14d %14d %14d  %s", "hand-written", hw.added, hw.addedGz, hw.base+hw.added, strings.Join(hReq, " "))

	for _, p := range aReq {
		if strings.HasSuffix(p, "-dev") || p == "gcc" {
			t.Errorf("acai's runner asked for build-time package %s", p)
		}
	}
	// yaml: plan/source-builds.toml's runtime package for PyYAML compiled from source;
	// so:libyaml-0.so.2: what the scan found. One Alpine package provides both.
	wantEqual(t, "acai runner apk requests", strings.Join(aReq, " "), "yaml so:libyaml-0.so.2")
	wantEqual(t, "hand-written runner apk requests", strings.Join(hReq, " "), "gcc musl-dev yaml-dev libstdc++")
	if a.base != hw.base {
		t.Errorf("the two runners have different bases: %d vs %d bytes", a.base, hw.base)
	}
	// No tolerance: what acai adds to the base is never more than what the recipe adds.
	// The recipe's runner guesses a compiler and headers (gcc musl-dev yaml-dev) where
	// acai adds the one runtime library it found, so a runner of acai's as large as the
	// recipe's would mean something slipped in that the scan or the copy should have left.
	if a.added > hw.added {
		t.Errorf("acai's runner adds %d bytes to the base, the hand-written recipe's %d: acai's is larger", a.added, hw.added)
	}
}

type sizes struct{ base, added, addedGz int64 }

// layerSizes sums the image's layers: the first is the stand-in base (one layer), the
// rest are what the build added.
func layerSizes(t *testing.T, img *testbed.Image) sizes {
	t.Helper()
	layers, err := img.OCI.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var s sizes
	for i, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, rc)
		rc.Close()
		gz, _ := l.Size()
		if i == 0 {
			s.base = n
			continue
		}
		s.added += n
		s.addedGz += gz
	}
	return s
}
