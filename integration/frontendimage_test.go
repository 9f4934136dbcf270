package integration

import (
	"archive/tar"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acai-build/acai/integration/testbed"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// The release image, as .github/workflows/release.yml builds it: Dockerfile.frontend for
// linux/amd64 and linux/arm64 in one build, Go cross-compiling on the build platform (no
// emulator: nothing of arm64 runs here). Each platform's /bin/acai-frontend is an ELF
// binary of its machine, and the image says its release. Stand-in: golang:1.26-alpine is
// the runner stand-in with this machine's Go (Bed.GolangStandin), and the modules come
// vendored in the context, as no build container reaches the module proxy here.
func TestFrontendImageForTwoPlatforms(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	dir := t.TempDir()
	files, err := exec.Command("git", "-C", bed.Repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, f := range strings.Split(strings.TrimRight(string(files), "\x00"), "\x00") {
		if _, err := os.Stat(filepath.Join(bed.Repo, f)); err != nil {
			continue // deleted in the work tree
		}
		dt := readHostFile(t, filepath.Join(bed.Repo, f))
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		setFile(t, dir, f, dt)
	}
	vendor := exec.Command("go", "mod", "vendor")
	vendor.Dir = dir
	if out, err := vendor.CombinedOutput(); err != nil {
		t.Fatalf("go mod vendor: %v\n%s", err, out)
	}
	golang, err := bed.GolangStandin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const version = "v9.8.7-test"
	res, out, err := bed.BuildctlToOCI(ctx, testbed.Build{Dir: dir, Filename: "Dockerfile.frontend",
		Contexts: map[string]string{"golang:1.26-alpine": "docker-image://" + golang},
		Args:     map[string]string{"ACAI_VERSION": version},
		Opts:     map[string]string{"platform": "linux/amd64,linux/arm64"}})
	if err != nil {
		t.Fatalf("building Dockerfile.frontend: %v\n%s", err, res.Log)
	}
	idx, err := layout.ImageIndexFromPath(out)
	if err != nil {
		t.Fatal(err)
	}
	outer, err := idx.IndexManifest()
	if err != nil || len(outer.Manifests) != 1 {
		t.Fatalf("OCI layout: %v %+v", err, outer)
	}
	images, err := idx.ImageIndex(outer.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := images.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	for _, m := range manifest.Manifests {
		if m.Platform == nil || want[m.Platform.Architecture] == 0 {
			continue
		}
		arch := m.Platform.Architecture
		img, err := images.Image(m.Digest)
		if err != nil {
			t.Fatal(err)
		}
		machine := frontendBinaryMachine(t, img)
		if machine != want[arch] {
			t.Errorf("%s: /bin/acai-frontend is for %v, want %v", arch, machine, want[arch])
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, arch+": label org.opencontainers.image.version", cfg.Config.Labels["org.opencontainers.image.version"], version)
		delete(want, arch)
	}
	if len(want) > 0 {
		t.Errorf("no image for %v in the index: %+v", want, manifest.Manifests)
	}
}

// frontendBinaryMachine is the ELF machine of img's /bin/acai-frontend.
func frontendBinaryMachine(t *testing.T, img v1.Image) elf.Machine {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "acai-frontend")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := extractFile(mutate.Extract(img), "bin/acai-frontend", f); err != nil {
		t.Fatal(err)
	}
	e, err := elf.Open(f.Name())
	if err != nil {
		t.Fatalf("/bin/acai-frontend is not an ELF file: %v", err)
	}
	defer e.Close()
	return e.Machine
}

// extractFile copies the file name of a flattened image (mutate.Extract) to w.
func extractFile(rc io.ReadCloser, name string, w io.Writer) error {
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if strings.TrimPrefix(hdr.Name, "/") == name {
			_, err = io.Copy(w, tr)
			return err
		}
	}
}
