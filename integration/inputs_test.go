package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/acai-build/acai/integration/testbed"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// --secret id=pip.conf: a private index's configuration reaches the installer during
// the install (pip reads it; for uv, the default, acai carries it over) and never lands
// in a layer.
func TestPipConfSecretReachesPipAndNoLayer(t *testing.T) {
	t.Parallel()
	for _, installer := range []string{"pip", "uv"} {
		t.Run(installer, func(t *testing.T) {
			dir := project(t, "packages = [\"cowsay==6.1\"]\nentrypoint = [\"cowsay\", \"-t\", \"from a private index\"]\n[build]\ninstaller = \""+installer+"\"\n", nil)
			conf := filepath.Join(t.TempDir(), "pip.conf")
			if err := os.WriteFile(conf, []byte("[global]\nindex-url = "+bed.Index.URL+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			o := standinBuild(t, dir)
			// Only the secret tells the installer where the index is.
			delete(o.Args, "PIP_INDEX_URL")
			delete(o.Args, "UV_INDEX_URL")
			o.Secrets = map[string]string{"pip.conf": conf}
			// BuildKit keys no step by its secrets: an arg of this run's own, so that the
			// install runs with this secret rather than coming from an earlier build.
			o.Args["PIP_USER_AGENT_USER_DATA"] = fmt.Sprintf("%s %d", t.Name(), time.Now().UnixNano())
			res := mustBuild(t, bed.BuildInProcess, o)
			if step, ok := res.Step("[deps] cowsay 6.1"); !ok || step.Cached {
				t.Errorf("cowsay's layer was not installed by this build (found %v):\n%s", ok, res.Log)
			}
			wantContains(t, "output", run(t, res.Image), "| from a private index |")
			if res.Exists("/etc/pip.conf") {
				t.Errorf("the pip.conf secret is in the image")
			}
			if layersContain(t, res.Layout, bed.Index.URL) {
				t.Errorf("the private index URL is stored in the image")
			}
		})
	}
}

// --no-cache re-runs every step, including the dependency install.
func TestNoCacheRerunsTheInstall(t *testing.T) {
	t.Parallel()
	dir := project(t, "packages = [\"cowsay==6.1\"]\n", nil)
	o := standinBuild(t, dir)
	mustBuild(t, bed.BuildInProcess, o)
	o.Opts = map[string]string{"no-cache": ""}
	res := mustBuild(t, bed.BuildInProcess, o)
	if step, ok := res.Step("[deps] cowsay 6.1"); !ok || step.Cached {
		t.Errorf("with --no-cache the install step is %+v (found %v), want it run:\n%s", step, ok, res.Log)
	}
}

// --platform with two platforms builds each from its own base image resolution and
// exports an index with one image per platform, each with the acai config. (Only
// amd64 variants run here: there is no emulator and the stand-ins are amd64.)
func TestSeveralPlatforms(t *testing.T) {
	t.Parallel()
	dir := project(t, "packages = [\"cowsay==6.1\"]\nentrypoint = [\"cowsay\"]\n", nil)
	o := standinBuild(t, dir)
	o.Opts = map[string]string{"platform": "linux/amd64,linux/amd64/v2"}
	dest := filepath.Join(t.TempDir(), "oci.tar")
	_, err := bed.BuildToOCI(testContext(t), o, dest)
	if err != nil {
		t.Fatal(err)
	}
	child := imageIndex(t, dest+".d")
	cm, _ := child.IndexManifest()
	var platforms []string
	for _, d := range cm.Manifests {
		if d.Platform == nil {
			continue
		}
		img, err := child.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _ := img.ConfigFile()
		platforms = append(platforms, d.Platform.Architecture+"/"+d.Platform.Variant+" user="+cfg.Config.User+" entrypoint="+strings.Join(cfg.Config.Entrypoint, " "))
	}
	sort.Strings(platforms)
	wantEqual(t, "platforms", strings.Join(platforms, "; "), "amd64/ user=appuser entrypoint=cowsay; amd64/v2 user=appuser entrypoint=cowsay")
}

// imageIndex opens the image index an OCI export holds: one image per platform and
// their attestation manifests.
func imageIndex(t *testing.T, layoutDir string) v1.ImageIndex {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(layoutDir)
	if err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	if len(im.Manifests) != 1 {
		t.Fatalf("OCI layout has %d top manifests, want 1", len(im.Manifests))
	}
	child, err := idx.ImageIndex(im.Manifests[0].Digest)
	if err != nil {
		t.Fatalf("the export is not an image index: %v", err)
	}
	return child
}

// layersContain reports whether any blob of the OCI layout contains s.
func layersContain(t *testing.T, dir, s string) bool {
	t.Helper()
	found := false
	filepath.WalkDir(filepath.Join(dir, "blobs"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		dt, _ := os.ReadFile(p)
		if strings.Contains(string(dt), s) {
			found = true
		}
		return nil
	})
	return found
}

// --attest type=sbom: acai runs the scanner over the runner image and attaches its SPDX
// document, as the Dockerfile frontend does. The scanner is syft (sbom_test.go reads
// what it finds).
func TestSBOMAttestation(t *testing.T) {
	t.Parallel()
	dir := project(t, "packages = [\"cowsay==6.1\"]\n", nil)
	o := standinBuild(t, dir)
	o.Opts = map[string]string{"attest:sbom": "generator=" + bed.SBOMScanner}
	dest := filepath.Join(t.TempDir(), "oci.tar")
	if _, err := bed.BuildToOCI(testContext(t), o, dest); err != nil {
		t.Fatal(err)
	}
	child := imageIndex(t, dest+".d")
	wantContains(t, "attestations", strings.Join(attestations(t, child), "\n"), `"predicateType":"https://spdx.dev/Document"`, `"name":"cowsay"`, `"versionInfo":"6.1"`)
}

// --build-arg SOURCE_DATE_EPOCH sets the image's creation time, as for a Dockerfile.
func TestSourceDateEpoch(t *testing.T) {
	t.Parallel()
	dir := project(t, "packages = [\"cowsay==6.1\"]\n", nil)
	o := standinBuild(t, dir)
	o.Args["SOURCE_DATE_EPOCH"] = "1700000000"
	res := mustBuild(t, bed.BuildInProcess, o)
	wantEqual(t, "created", res.Config.Created.UTC().Format("2006-01-02T15:04:05Z"), "2023-11-14T22:13:20Z")

	o.Args["SOURCE_DATE_EPOCH"] = "yesterday"
	if _, err := bed.BuildInProcess(testContext(t), o); err == nil || !strings.Contains(err.Error(), "SOURCE_DATE_EPOCH") {
		t.Errorf("an invalid SOURCE_DATE_EPOCH gave %v", err)
	}
}

// rawConfig is the image's config as JSON, with the fields go-containerregistry's Go types
// do not know (Healthcheck.StartInterval).
func rawConfig(t *testing.T, img *testbed.Image) []byte {
	t.Helper()
	dt, err := img.OCI.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	return dt
}
