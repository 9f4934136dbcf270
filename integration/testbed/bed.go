// Package testbed runs acai against a real BuildKit on a machine with no Docker engine,
// no public registry, no PyPI and no Alpine mirror: a buildkitd (built from the pinned
// Go module by hack/setup) on a private socket, a loopback OCI registry, Debian-based
// stand-ins for the python:X-alpineY and ACAI builder images, a loopback Python
// package index, and the frontend image built from Dockerfile.frontend.
//
// The stand-ins replace the real base images only through the overrides a user has
// (named build contexts, the Acaifile's image keys); the frontend knows nothing of them.
package testbed

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/moby/buildkit/client"
)

// Bed is a running test bed.
type Bed struct {
	Repo     string // the acai repository root
	Cache    string // .cache: built tools, stand-in rootfs tarballs, buildkitd state
	Socket   string // buildkitd's address, unix://...
	Registry string // host:port of the loopback registry
	Client   *client.Client
	Index    *PackageIndex

	// Image references in the loopback registry.
	RunnerStandin  string // stands in for python:X-alpineY
	BuilderStandin string // stands in for a prebuilt ACAI builder
	// Python315Standin stands in for python:3.15-alpine*: the runner with a real CPython
	// 3.15 (Debian unstable's), on which real cp315 wheels install and run.
	Python315Standin string
	SBOMScanner      string // the SBOM scanner image (--attest type=sbom): syft, in place of docker/buildkit-syft-scanner
	UVStandin        string // stands in for the official uv image (spec.UVImage)
	UVBinary         string // that uv, on the host: tests lock projects with it
	Frontend         string // the acai frontend image
	// FrontendBinarySize is the size of the frontend's binary, the image's one file.
	FrontendBinarySize int64

	scope     Scope
	registry  http.Handler // the loopback registry, also served inside a Docker Engine's namespace
	tmp       string
	buildkitd *exec.Cmd
	logs      *os.File
	servers   []*http.Server
	serversMu sync.Mutex // tests start servers (PrivateIndex) in parallel
	closeOnce sync.Once
}

// Logf reports progress of the test bed's own set-up.
var Logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, "testbed: "+format+"\n", args...) }

// Start brings the whole test bed up. Every missing prerequisite is an error naming
// what to run: a test bed that silently skips proves nothing.
func Start(ctx context.Context) (*Bed, error) { return StartScope(ctx, Everything) }

// Scope is how much of the test bed a caller needs.
type Scope int

const (
	// Everything the tests and the bench use.
	Everything Scope = iota
	// Quickstart is what `hack/quickstart` needs to build and run an example on amd64:
	// buildkitd, the runner stand-in and the PyPI files hack/setup --quickstart fetched
	// (the index serves those it finds); no builder, arm64 or uv stand-in, no SBOM scanner.
	Quickstart
)

// StartScope brings up the test bed scope needs.
func StartScope(ctx context.Context, scope Scope) (_ *Bed, err error) {
	repo, err := repoRoot()
	if err != nil {
		return nil, err
	}
	b := &Bed{Repo: repo, Cache: filepath.Join(repo, ".cache"), scope: scope}
	if v := os.Getenv("ACAI_CACHE"); v != "" {
		b.Cache = v
	}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	if err := b.checkPrerequisites(); err != nil {
		return nil, err
	}
	if b.tmp, err = os.MkdirTemp("", "acai-testbed-"); err != nil {
		return nil, err
	}
	if err := b.startRegistry(); err != nil {
		return nil, err
	}
	if err := b.startBuildkitd(ctx); err != nil {
		return nil, err
	}
	if b.Index, err = b.startPackageIndex(); err != nil {
		return nil, err
	}
	if err := b.pushStandins(ctx); err != nil {
		return nil, err
	}
	if err := b.buildFrontendImage(ctx); err != nil {
		return nil, fmt.Errorf("building the frontend image: %w", err)
	}
	return b, nil
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; d != "/"; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "Dockerfile.frontend")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("no acai repository (Dockerfile.frontend) above %s", dir)
}

func (b *Bed) checkPrerequisites() error {
	var missing []string
	files := []string{"bin/buildkitd", "bin/buildctl", "standins/runner.tar"}
	if b.scope == Everything {
		files = append(files, "standins/builder.tar", "standins/runner-arm64.tar", "standins/runner-py315.tar", "bin/syft")
	}
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(b.Cache, f)); err != nil {
			missing = append(missing, filepath.Join(b.Cache, f))
		}
	}
	for _, tool := range []string{"runc", "umoci", "tar"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool+" (on PATH)")
		}
	}
	if os.Geteuid() != 0 {
		missing = append(missing, "root (buildkitd runs rootful here)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("test bed prerequisites missing: %s; run hack/setup first", strings.Join(missing, ", "))
	}
	return nil
}

func (b *Bed) serve(h http.Handler) (string, error) {
	return b.serveAt("127.0.0.1:0", h)
}

// serveAt serves h on addr, or on a free port when addr is taken.
func (b *Bed) serveAt(addr string, h http.Handler) (string, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		Logf("%s is taken (%v); using a free port, so steps that see the address will not hit the cache of earlier runs", addr, err)
		if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return "", err
		}
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	b.serversMu.Lock()
	b.servers = append(b.servers, srv)
	b.serversMu.Unlock()
	go srv.Serve(l)
	return l.Addr().String(), nil
}

func (b *Bed) startRegistry() error {
	blobs := filepath.Join(b.tmp, "registry-blobs")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	quiet := registry.Logger(nilLogger())
	b.registry = registry.New(quiet, registry.WithBlobHandler(registry.NewDiskBlobHandler(blobs)))
	addr, err := b.serve(b.registry)
	b.Registry = addr
	return err
}

// startBuildkitd runs a rootful OCI-worker buildkitd on a private socket. Its state
// lives in the cache, so a second test run re-uses the build cache.
func (b *Bed) startBuildkitd(ctx context.Context) error {
	d, err := b.StartDaemon(ctx, filepath.Join(b.Cache, "buildkitd"), "buildkitd")
	if err != nil {
		return err
	}
	b.buildkitd, b.Client, b.Socket, b.logs = d.cmd, d.Client, d.Socket, d.logs
	return nil
}

// Daemon is a running buildkitd.
type Daemon struct {
	Socket string
	Client *client.Client
	cmd    *exec.Cmd
	logs   *os.File
}

// StartDaemon starts a buildkitd with its state in root, named name (its socket and log
// in the test bed's directory): the test bed's own, or a second one, as on another
// machine. Stop it with Stop (the test bed's own stops with Close).
func (b *Bed) StartDaemon(ctx context.Context, root, name string) (*Daemon, error) {
	return b.StartDaemonBinary(ctx, filepath.Join(b.Cache, "bin/buildkitd"), root, name)
}

// StartDaemonBinary is StartDaemon with another buildkitd binary: an older release, as
// Docker Engine embeds it.
func (b *Bed) StartDaemonBinary(ctx context.Context, binary, root, name string) (*Daemon, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	// A test process that died (a panic) leaves its buildkitd running, holding the state's
	// lock: stop the one this root's pid file names, if it is still a buildkitd.
	pidFile := filepath.Join(root, "acai-testbed.pid")
	if dt, err := os.ReadFile(pidFile); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(dt))); err == nil {
			if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && strings.Contains(string(cmdline), "buildkitd") {
				Logf("stopping a buildkitd (pid %d) left by an earlier run on %s", pid, root)
				_ = syscall.Kill(-pid, syscall.SIGKILL)
				for i := 0; i < 50 && syscall.Kill(pid, 0) == nil; i++ {
					time.Sleep(100 * time.Millisecond)
				}
			}
		}
	}
	d := &Daemon{Socket: "unix://" + filepath.Join(b.tmp, name+".sock")}
	logs, err := os.Create(filepath.Join(b.tmp, name+".log"))
	if err != nil {
		return nil, err
	}
	d.logs = logs
	cmd := exec.Command(binary,
		"--root", root, "--addr", d.Socket,
		"--oci-worker=true", "--containerd-worker=false",
		"--oci-worker-snapshotter=overlayfs",
		// Build steps share the host's network, so they reach the loopback package index.
		"--oci-worker-net=host",
		// 8 GB of cache: what the suite reuses, on a disk that also holds its images.
		"--oci-worker-gc-keepstorage=8000")
	// ACAI_BUILDKITD_DEBUGADDR=127.0.0.1:6060 serves the test bed's own daemon's pprof
	// there (go tool pprof http://127.0.0.1:6060/debug/pprof/profile): where its time goes.
	if a := os.Getenv("ACAI_BUILDKITD_DEBUGADDR"); a != "" && name == "buildkitd" {
		cmd.Args = append(cmd.Args, "--debugaddr", a)
	}
	cmd.Dir = b.tmp
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	d.cmd = cmd
	_ = os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := client.New(ctx, d.Socket)
		if err == nil {
			if _, err = c.ListWorkers(ctx); err == nil {
				d.Client = c
				return d, nil
			}
			c.Close()
		}
		if time.Now().After(deadline) {
			d.Stop()
			out, _ := os.ReadFile(logs.Name())
			return nil, fmt.Errorf("buildkitd did not come up: %v\n%s", err, tail(string(out), 2000))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Kill kills the daemon at once (SIGKILL), as a crash or an OOM kill would, and waits
// for it to be gone.
func (d *Daemon) Kill() {
	if d.Client != nil {
		d.Client.Close()
	}
	if d.cmd != nil && d.cmd.Process != nil {
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		d.cmd.Wait()
	}
	if d.logs != nil {
		d.logs.Close()
	}
}

// Stop stops the daemon: SIGTERM, then SIGKILL after 15 s.
func (d *Daemon) Stop() {
	if d.Client != nil {
		d.Client.Close()
	}
	if d.cmd != nil && d.cmd.Process != nil {
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { d.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	if d.logs != nil {
		d.logs.Close()
	}
}

// Close stops everything Start started.
func (b *Bed) Close() {
	b.closeOnce.Do(func() {
		(&Daemon{Client: b.Client, cmd: b.buildkitd}).Stop()
		for _, s := range b.servers {
			s.Close()
		}
		if b.logs != nil {
			b.logs.Close()
		}
		if b.tmp != "" {
			os.RemoveAll(b.tmp)
		}
	})
}

// BuildkitdLog is the tail of buildkitd's log, for failure messages.
func (b *Bed) BuildkitdLog() string {
	out, _ := os.ReadFile(filepath.Join(b.tmp, "buildkitd.log"))
	return tail(string(out), 4000)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
