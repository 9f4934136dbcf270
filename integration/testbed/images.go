package testbed

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/acai-build/acai/spec"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/moby/buildkit/client"
	"github.com/tonistiigi/fsutil"
)

func nilLogger() *log.Logger { return log.New(io.Discard, "", 0) }

// StandinLabel marks the stand-in images for what they are.
const StandinLabel = "org.acai.testbed.standin"

// standinDiffers is what the stand-ins' label says about how they differ from Alpine.
const standinDiffers = "Debian bookworm standing in for python:X-alpineY; NOT Alpine. Differs: glibc not musl " +
	"(pip installs manylinux wheels, served only where Alpine has a musllinux wheel too); " +
	"CPython 3.11.2 from Debian, whatever python the Acaifile names; /sbin/apk is a shim that records " +
	"requests and installs Debian equivalents (hack/standin/apk-debian.map) with apt-get; " +
	"same as python:3.12-alpine: pinned PyPI pip, no setuptools or wheel, Python headers, no compiler"

// pushStandins pushes the Debian rootfs tarballs made by hack/setup as one-layer images.
func (b *Bed) pushStandins(ctx context.Context) error {
	for _, s := range []struct {
		kind, tag string
		ref       *string
		what      string
	}{
		{"runner", "bookworm", &b.RunnerStandin, standinDiffers},
		{"builder", "bookworm", &b.BuilderStandin, "ACAI builder stand-in: the runner stand-in + gcc, g++, make, libyaml-dev, scanelf. " + standinDiffers},
		{"runner-py315", "unstable", &b.Python315Standin, "Python 3.15 stand-in: Debian unstable with its CPython 3.15.2 as python3 and python, pip from PyPI, scanelf; " +
			"the apk shim installs from Debian unstable. Otherwise as the runner stand-in: " + standinDiffers},
	} {
		layerFile, err := b.compressedLayer(filepath.Join(b.Cache, "standins", s.kind+".tar"))
		if err != nil {
			return err
		}
		layer, err := tarball.LayerFromFile(layerFile)
		if err != nil {
			return err
		}
		img, ref, err := b.pushImage(ctx, empty.Image, layer, "acai-standin/"+s.kind+":"+s.tag, func(cfg *v1.ConfigFile) {
			cfg.OS, cfg.Architecture = "linux", "amd64"
			cfg.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"}
			cfg.Config.Cmd = []string{"python3"}
			cfg.Config.Labels = map[string]string{StandinLabel: s.what}
		})
		if err != nil {
			return fmt.Errorf("pushing the %s stand-in: %w", s.kind, err)
		}
		*s.ref = ref
		if b.scope == Quickstart {
			return nil // the runner, for amd64, is all an example's build needs
		}
		if s.kind == "runner" {
			if err := b.pushScanner(ctx, img); err != nil {
				return err
			}
			if *s.ref, err = b.pushRunnerIndex(ctx, img, s.what); err != nil {
				return err
			}
		}
	}
	return b.pushUV(ctx)
}

// pushRunnerIndex pushes the runner stand-in as python:X-alpineY is published: one
// image index, linux/amd64 (amd64, the stand-in every test runs) and linux/arm64 (the
// runner-arm64 rootfs of hack/standin-rootfs, which cross builds read and nothing here
// runs: this machine has no arm64 emulator).
func (b *Bed) pushRunnerIndex(ctx context.Context, amd64 v1.Image, what string) (string, error) {
	layerFile, err := b.compressedLayer(filepath.Join(b.Cache, "standins", "runner-arm64.tar"))
	if err != nil {
		return "", err
	}
	layer, err := tarball.LayerFromFile(layerFile)
	if err != nil {
		return "", err
	}
	arm64, _, err := b.pushImage(ctx, empty.Image, layer, "acai-standin/runner:bookworm-arm64", func(cfg *v1.ConfigFile) {
		cfg.OS, cfg.Architecture, cfg.Variant = "linux", "arm64", "v8"
		cfg.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"}
		cfg.Config.Cmd = []string{"python3"}
		cfg.Config.Labels = map[string]string{StandinLabel: "arm64, made without running it (mmdebstrap --variant=extract), no scanelf. " + what}
	})
	if err != nil {
		return "", fmt.Errorf("pushing the arm64 runner stand-in: %w", err)
	}
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd64, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm64, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}})
	ref, err := name.ParseReference(b.Registry+"/acai-standin/runner:bookworm", name.Insecure)
	if err != nil {
		return "", err
	}
	if err := remote.WriteIndex(ref, idx, remote.WithContext(ctx)); err != nil {
		return "", fmt.Errorf("pushing the runner stand-in's index: %w", err)
	}
	return ref.String(), nil
}

// pushUV pushes the stand-in for the official uv image (ghcr.io/astral-sh/uv, which no
// registry here has): like it, one layer with /uv and /uvx, here taken from the pinned
// uv wheel of PyPI (its static musl binary, the same build the official image ships).
// It also leaves the binary at UVBinary, for tests that lock projects on the host.
func (b *Bed) pushUV(ctx context.Context) error {
	var wheel string
	for _, f := range b.Index.Lock.Files {
		if f.Project == "uv" && strings.Contains(f.Filename, "musllinux_1_1_x86_64") {
			wheel = filepath.Join(b.Cache, "pypi", f.Filename)
		}
	}
	zr, err := zip.OpenReader(wheel)
	if err != nil {
		return fmt.Errorf("the uv wheel: %w", err)
	}
	defer zr.Close()
	files := map[string][]byte{}
	for _, f := range zr.File {
		name := path.Base(f.Name)
		if !strings.Contains(f.Name, ".data/scripts/") || (name != "uv" && name != "uvx") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		dt, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		files[name] = dt
	}
	b.UVBinary = filepath.Join(b.tmp, "uv")
	if err := os.WriteFile(b.UVBinary, files["uv"], 0o755); err != nil {
		return err
	}
	layer, err := ExecutableLayer(files)
	if err != nil {
		return err
	}
	_, b.UVStandin, err = b.pushImage(ctx, empty.Image, layer, "acai-standin/uv:"+spec.UVImage[strings.LastIndex(spec.UVImage, ":")+1:], func(cfg *v1.ConfigFile) {
		cfg.OS, cfg.Architecture = "linux", "amd64"
		cfg.Config.Entrypoint = []string{"/uv"}
		cfg.Config.Labels = map[string]string{StandinLabel: "stand-in for " + spec.UVImage + ": /uv and /uvx from the pinned uv wheel of PyPI"}
	})
	return err
}

// syftScannerScript follows BuildKit's SBOM scanner protocol, as
// docker/buildkit-syft-scanner does (its image is on no registry here): real syft scans
// the image at BUILDKIT_SCAN_SOURCE and each root under BUILDKIT_SCAN_SOURCE_EXTRAS, and
// each SPDX document goes to BUILDKIT_SCAN_DESTINATION/<name>.spdx.json as an in-toto
// statement.
const syftScannerScript = `import json, os, subprocess
dest = os.environ["BUILDKIT_SCAN_DESTINATION"]
sources = [os.environ["BUILDKIT_SCAN_SOURCE"]]
extras = os.environ.get("BUILDKIT_SCAN_SOURCE_EXTRAS", "")
if extras and os.path.isdir(extras):
    sources += [os.path.join(extras, n) for n in sorted(os.listdir(extras))]
for src in sources:
    name = os.path.basename(src.rstrip("/"))
    doc = subprocess.run(["syft", "scan", "dir:" + src, "--source-name", name, "-o", "spdx-json", "-q"],
                         check=True, stdout=subprocess.PIPE).stdout
    statement = {"_type": "https://in-toto.io/Statement/v0.1", "predicateType": "https://spdx.dev/Document",
                 "predicate": json.loads(doc)}
    with open(os.path.join(dest, name + ".spdx.json"), "w") as f:
        json.dump(statement, f, separators=(",", ":"))
`

// pushScanner pushes the SBOM scanner: the runner stand-in plus syft (built by
// hack/setup from the module proxy) and syftScannerScript.
func (b *Bed) pushScanner(ctx context.Context, runner v1.Image) error {
	syft, err := os.ReadFile(filepath.Join(b.Cache, "bin", "syft"))
	if err != nil {
		return fmt.Errorf("syft (hack/setup builds it): %w", err)
	}
	layer, err := ExecutableLayer(map[string][]byte{"usr/local/bin/syft": syft, "usr/local/bin/acai-syft-scanner.py": []byte(syftScannerScript)})
	if err != nil {
		return err
	}
	_, b.SBOMScanner, err = b.pushImage(ctx, runner, layer, "acai-standin/syft-scanner:latest", func(cfg *v1.ConfigFile) {
		cfg.Config.Entrypoint = []string{"python3", "/usr/local/bin/acai-syft-scanner.py"}
		cfg.Config.Cmd = nil
		// No update check: the scan runs with no network, as a build step.
		cfg.Config.Env = append(cfg.Config.Env, "SYFT_CHECK_FOR_APP_UPDATE=false")
		cfg.Config.Labels = map[string]string{StandinLabel: "SBOM scanner: syft " + syftVersion + " (built from the Go module) with a script speaking BuildKit's scanner protocol, in place of docker/buildkit-syft-scanner"}
	})
	return err
}

// syftVersion is the syft hack/setup builds.
const syftVersion = "v1.57.1"

// PushImage pushes base plus layer, with its config edited, as repo: for tools beside
// the tests (the benchmark's syntax image).
func (b *Bed) PushImage(ctx context.Context, base v1.Image, layer v1.Layer, repo string, edit func(*v1.ConfigFile)) (v1.Image, string, error) {
	return b.pushImage(ctx, base, layer, repo, edit)
}

// ExecutableLayer is a layer of executable files (path → content).
func ExecutableLayer(files map[string][]byte) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(files[name])), Typeflag: tar.TypeReg}); err != nil {
			return nil, err
		}
		tw.Write(files[name])
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
}

// pushImage pushes base plus layer, with its config edited, to the loopback registry
// as repo, and returns the image and its reference.
func (b *Bed) pushImage(ctx context.Context, base v1.Image, layer v1.Layer, repo string, edit func(*v1.ConfigFile)) (v1.Image, string, error) {
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return nil, "", err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, "", err
	}
	cfg = cfg.DeepCopy()
	edit(cfg)
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return nil, "", err
	}
	ref, err := name.ParseReference(b.Registry+"/"+repo, name.Insecure)
	if err != nil {
		return nil, "", err
	}
	return img, ref.String(), remote.Write(ref, img, remote.WithContext(ctx))
}

// compressedLayer gzips a rootfs tarball once and keeps the result next to it, so that
// later runs push without compressing again.
func (b *Bed) compressedLayer(tarPath string) (string, error) {
	gz := tarPath + ".gz"
	if gi, err := os.Stat(gz); err == nil {
		if ti, err := os.Stat(tarPath); err == nil && !ti.ModTime().After(gi.ModTime()) {
			return gz, nil
		}
	}
	in, err := os.Open(tarPath)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.Create(gz + ".partial")
	if err != nil {
		return "", err
	}
	zw, _ := gzip.NewWriterLevel(out, gzip.BestSpeed)
	if _, err := io.Copy(zw, in); err != nil {
		out.Close()
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	if err := out.Close(); err != nil {
		return "", err
	}
	return gz, os.Rename(gz+".partial", gz)
}

// buildFrontendImage builds Dockerfile.frontend through BuildKit's Dockerfile frontend
// and pushes it to the loopback registry. Its Go-compile stage ("build") starts from
// golang:*-alpine, which no registry here has, so that one stage is replaced by a named
// build context holding the same binary compiled on the host; the image stage itself
// (labels, user, entrypoint) is built exactly as written.
func (b *Bed) buildFrontendImage(ctx context.Context) error {
	b.Frontend = b.Registry + "/acai/frontend:test"
	size, err := b.buildFrontendImageFrom(ctx, b.Repo, b.Frontend)
	b.FrontendBinarySize = size
	return err
}

// FrontendImageAt builds and pushes the frontend image of the repository's commit rev
// (a checkout of it in a temporary directory) and returns its reference: the benchmark's
// baseline, timed against the working tree's build on the same daemon, runs alternating.
func (b *Bed) FrontendImageAt(ctx context.Context, rev string) (string, error) {
	dir, err := os.MkdirTemp(b.tmp, "frontend-at-")
	if err != nil {
		return "", err
	}
	archive := exec.CommandContext(ctx, "sh", "-c", `git archive "$1" | tar -x -C "$2"`, "sh", rev, dir)
	archive.Dir = b.Repo
	if o, err := archive.CombinedOutput(); err != nil {
		return "", fmt.Errorf("git archive %s: %v\n%s", rev, err, o)
	}
	ref := b.Registry + "/acai/frontend:at-" + rev
	_, err = b.buildFrontendImageFrom(ctx, dir, ref)
	return ref, err
}

// buildFrontendImageFrom builds repo's frontend image as ref and returns the size of its
// binary.
// FrontendVersion is the release the test bed's frontend image says it is, as a
// release build's ACAI_VERSION does.
const FrontendVersion = "v0.0.0-testbed"

func (b *Bed) buildFrontendImageFrom(ctx context.Context, repo, ref string) (int64, error) {
	out, err := os.MkdirTemp(b.tmp, "frontend-build-")
	if err != nil {
		return 0, err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w -X github.com/acai-build/acai/frontend.Version="+FrontendVersion, "-o", filepath.Join(out, "out", "frontend"), "./cmd/frontend")
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if o, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("go build ./cmd/frontend: %v\n%s", err, o)
	}
	fi, err := os.Stat(filepath.Join(out, "out", "frontend"))
	if err != nil {
		return 0, err
	}
	repoFS, err := fsutil.NewFS(repo)
	if err != nil {
		return 0, err
	}
	binFS, err := fsutil.NewFS(out)
	if err != nil {
		return 0, err
	}
	emptyDir := filepath.Join(b.tmp, "empty-context")
	if err := os.MkdirAll(emptyDir, 0o755); err != nil {
		return 0, err
	}
	emptyFS, err := fsutil.NewFS(emptyDir)
	if err != nil {
		return 0, err
	}
	_, err = b.Client.Solve(ctx, nil, client.SolveOpt{
		Frontend: "dockerfile.v0",
		FrontendAttrs: map[string]string{
			"filename":               "Dockerfile.frontend",
			"context:build":          "local:frontend-build",
			"build-arg:ACAI_VERSION": FrontendVersion,
		},
		LocalMounts: map[string]fsutil.FS{"context": emptyFS, "dockerfile": repoFS, "frontend-build": binFS},
		Exports: []client.ExportEntry{{
			Type:  client.ExporterImage,
			Attrs: map[string]string{"name": ref, "push": "true", "registry.insecure": "true"},
		}},
	}, drain())
	return fi.Size(), err
}

func drain() chan *client.SolveStatus {
	ch := make(chan *client.SolveStatus)
	go func() {
		for range ch {
		}
	}()
	return ch
}
