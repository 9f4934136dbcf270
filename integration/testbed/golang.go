package testbed

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// GolangStandin pushes the stand-in for golang:X-alpine, the image Dockerfile.frontend
// compiles acai in: the runner stand-in (Debian, with a shell) plus this machine's Go
// toolchain at /usr/local/go, with GOTOOLCHAIN=local and GOPROXY=off: a build container
// reaches no module proxy here, so the context must carry its modules (vendor/), or the
// build give a GOPROXY of the test bed's (GolangStandinAs). Not Alpine and not the
// official image: only what Dockerfile.frontend runs in it (go build).
func (b *Bed) GolangStandin(ctx context.Context) (string, error) {
	return b.GolangStandinAs(ctx, "acai-standin/golang:alpine", "GOPROXY=off", "GOFLAGS=-mod=vendor")
}

// GolangStandinAs pushes the Go stand-in as repo (a name in the registry) with env
// added to its environment.
func (b *Bed) GolangStandinAs(ctx context.Context, repo string, env ...string) (string, error) {
	goroot, err := exec.CommandContext(ctx, "go", "env", "GOROOT").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOROOT: %w", err)
	}
	layerFile := filepath.Join(b.tmp, strings.NewReplacer("/", "_", ":", "_").Replace(repo)+".tar.gz")
	if err := tarDir(strings.TrimSpace(string(goroot)), "usr/local/go", layerFile, "test", "doc", "misc", "api"); err != nil {
		return "", err
	}
	layer, err := tarball.LayerFromFile(layerFile)
	if err != nil {
		return "", err
	}
	ref, err := name.ParseReference(b.RunnerStandin, name.Insecure)
	if err != nil {
		return "", err
	}
	base, err := remote.Image(ref, remote.WithContext(ctx), remote.WithPlatform(v1.Platform{OS: "linux", Architecture: "amd64"}))
	if err != nil {
		return "", err
	}
	_, out, err := b.pushImage(ctx, base, layer, repo, func(cfg *v1.ConfigFile) {
		cfg.Config.Env = append([]string{"PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "GOPATH=/go",
			"GOTOOLCHAIN=local"}, env...)
		cfg.Config.Labels = map[string]string{StandinLabel: "stand-in for golang:X-alpine: the runner stand-in (Debian) plus this machine's Go toolchain; no module proxy"}
	})
	return out, err
}

// tarDir writes dir as a gzipped layer under prefix, leaving out the top-level entries skip.
func tarDir(dir, prefix, out string, skip ...string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		for _, s := range skip {
			if rel == s {
				return filepath.SkipDir
			}
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(filepath.Join(prefix, rel))
		if d.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		_, err = io.Copy(tw, in)
		return err
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}
