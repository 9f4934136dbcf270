package testbed

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sys/unix"
)

// A Docker Engine (dockerd, containerd, the docker CLI with buildx), as users run acai:
// `docker buildx build -f Acaifile .`. hack/setup builds it from the Go module proxy.
// It runs inside a network namespace the test bed creates, with a mount namespace of its
// own (a /sys of that network, the host's cgroups bound back), so that its bridge and
// the addresses on it belong to the test and nothing it runs reaches past them: the
// namespace has no route out. Inside it, on the namespace's own addresses, the test
// bed serves its registry (the Engine's docker.io mirror, holding the stand-ins under
// the real names) and its package index (on the bridge's gateway, where build
// containers reach it, as a company's PyPI mirror). iptables is off: nothing is
// published or forwarded.
type Engine struct {
	Store    string // "containerd" (Engine 29's default image store) or "classic" (graphdrivers)
	Registry string // the mirror's address inside the namespace, 127.0.0.1:PORT
	IndexURL string // the package index, as build containers reach it
	dir      string
	ns       string
	env      []string
	procs    []*exec.Cmd // holder, containerd, dockerd: stopped in reverse
	servers  []*http.Server
}

// The Engine's bridge: its gateway address is where build containers reach the index.
const engineBridge = "172.31.251.1/24"

var engineSeq atomic.Int64

// StartEngine starts a Docker Engine with the given image store, its docker.io mirror
// holding python:3.12-alpine3.24 (the runner stand-in, both platforms) and
// acai/frontend:latest and :1 (the frontend image).
func (b *Bed) StartEngine(ctx context.Context, store string) (_ *Engine, err error) {
	for _, bin := range []string{"dockerd", "containerd", "containerd-shim-runc-v2", "docker-buildx"} {
		if _, err := os.Stat(filepath.Join(b.Cache, "bin", bin)); err != nil {
			return nil, fmt.Errorf("the Docker Engine's %s is not in %s: run hack/setup", bin, filepath.Join(b.Cache, "bin"))
		}
	}
	for _, tool := range []string{"ip", "nsenter", "unshare", "docker"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("%s is not on PATH: run hack/setup", tool)
		}
	}
	dir, err := os.MkdirTemp(b.tmp, "engine-")
	if err != nil {
		return nil, err
	}
	e := &Engine{Store: store, dir: dir, ns: fmt.Sprintf("acai-engine-%d-%d", os.Getpid(), engineSeq.Add(1))}
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, e.Logs())
			e.Close()
		}
	}()
	if out, err := exec.CommandContext(ctx, "ip", "netns", "add", e.ns).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ip netns add: %v: %s", err, out)
	}
	holder, err := e.startHolder(ctx)
	if err != nil {
		return nil, err
	}
	// The registry first (dockerd checks its mirror), on the namespace's loopback.
	regL, err := listenIn("/run/netns/"+e.ns, "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e.Registry = regL.Addr().String()
	e.serve(regL, b.registry)
	if err := b.pushEngineImages(ctx); err != nil {
		return nil, err
	}
	if err := e.startDaemons(ctx, holder, filepath.Join(b.Cache, "bin")); err != nil {
		return nil, err
	}
	// The index on the bridge's gateway, which exists once dockerd made the bridge.
	index, err := e.ServeOnBridge(http.FileServer(http.Dir(b.Index.Dir)))
	if err != nil {
		return nil, err
	}
	e.IndexURL = index + "/simple"
	return e, nil
}

// ServeOnBridge serves h on the Engine's bridge gateway, where its build and run
// containers reach it (and nothing outside the namespace does); it returns the base URL.
func (e *Engine) ServeOnBridge(h http.Handler) (string, error) {
	gw, _, _ := strings.Cut(engineBridge, "/")
	l, err := listenIn("/run/netns/"+e.ns, gw+":0")
	if err != nil {
		return "", err
	}
	e.serve(l, h)
	return "http://" + l.Addr().String(), nil
}

// startHolder starts the process whose namespaces the Engine's processes join: the
// network namespace, and a private mount namespace with a /sys of that network and the
// host's cgroup hierarchies bound back (dockerd reads both).
func (e *Engine) startHolder(ctx context.Context) (int, error) {
	script := `set -e
ip link set lo up
mkdir -p "$1"
mount --rbind /sys/fs/cgroup "$1"
mount -t sysfs sysfs /sys
mount --rbind "$1" /sys/fs/cgroup
echo ready
exec sleep 86400`
	cmd := exec.Command("nsenter", "--net=/run/netns/"+e.ns, "unshare", "--mount", "--propagation", "slave", "sh", "-c", script, "holder", filepath.Join(e.dir, "cgroup"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	cmd.Stderr = e.logFile("holder.log")
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	e.procs = append(e.procs, cmd)
	buf := make([]byte, 6)
	if _, err := out.Read(buf); err != nil || string(buf) != "ready\n" {
		return 0, fmt.Errorf("the namespace holder did not start (%q, %v)", buf, err)
	}
	// sleep is the holder's last exec: unshare's child. Its pid is the one to enter.
	for i := 0; i < 50; i++ {
		if pid := childSleep(cmd.Process.Pid); pid != 0 {
			return pid, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return 0, fmt.Errorf("no namespace holder process under pid %d", cmd.Process.Pid)
}

// childSleep finds the sleep process below pid (unshare forks nothing: it execs, so the
// holder is pid itself, once it runs sleep).
func childSleep(pid int) int {
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err == nil && strings.TrimSpace(string(comm)) == "sleep" {
		return pid
	}
	return 0
}

// startDaemons starts containerd and dockerd in the holder's namespaces, their state in
// the Engine's directory, and waits until dockerd answers.
func (e *Engine) startDaemons(ctx context.Context, holder int, bin string) error {
	containerdConf := fmt.Sprintf(`version = 3
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime"]
[grpc]
  address = %q
`, filepath.Join(e.dir, "containerd"), filepath.Join(e.dir, "containerd-state"), filepath.Join(e.dir, "containerd.sock"))
	// Debian's runc has no time namespaces, which Engine 29 asks for: off (Docker's own
	// packages ship a newer runc). iptables off: nothing is published or forwarded.
	daemon := fmt.Sprintf(`{
  "data-root": %q, "exec-root": %q, "pidfile": %q,
  "hosts": ["unix://%s"], "containerd": %q,
  "bip": %q, "userland-proxy": false, "iptables": false, "ip6tables": false, "ip-forward": false,
  "registry-mirrors": ["http://%s"], "insecure-registries": [%q],
  "features": {"time-namespaces": false, "containerd-snapshotter": %v}
}`, filepath.Join(e.dir, "docker"), filepath.Join(e.dir, "exec"), filepath.Join(e.dir, "dockerd.pid"),
		filepath.Join(e.dir, "docker.sock"), filepath.Join(e.dir, "containerd.sock"),
		engineBridge, e.Registry, e.Registry, e.Store == "containerd")
	for n, content := range map[string]string{"containerd.toml": containerdConf, "daemon.json": daemon} {
		if err := os.WriteFile(filepath.Join(e.dir, n), []byte(content), 0o644); err != nil {
			return err
		}
	}
	cli := filepath.Join(e.dir, "docker-config")
	if err := os.MkdirAll(filepath.Join(cli, "cli-plugins"), 0o755); err != nil {
		return err
	}
	if err := os.Symlink(filepath.Join(bin, "docker-buildx"), filepath.Join(cli, "cli-plugins", "docker-buildx")); err != nil {
		return err
	}
	e.env = []string{"DOCKER_HOST=unix://" + filepath.Join(e.dir, "docker.sock"), "DOCKER_CONFIG=" + cli, "BUILDX_NO_DEFAULT_ATTESTATIONS=1"}
	path := "PATH=" + bin + ":" + os.Getenv("PATH")
	enter := []string{"--target", strconv.Itoa(holder), "--mount", "--net", "env", path}
	for _, d := range []struct {
		log  string
		argv []string
	}{
		{"containerd.log", []string{filepath.Join(bin, "containerd"), "--config", filepath.Join(e.dir, "containerd.toml")}},
		{"dockerd.log", []string{filepath.Join(bin, "dockerd"), "--config-file", filepath.Join(e.dir, "daemon.json")}},
	} {
		cmd := exec.Command("nsenter", append(enter, d.argv...)...)
		cmd.Stdout, cmd.Stderr = e.logFile(d.log), e.logFile(d.log+".err")
		if err := cmd.Start(); err != nil {
			return err
		}
		e.procs = append(e.procs, cmd)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, err := e.Docker(ctx, e.dir, nil, "version", "--format", "{{.Server.Version}}")
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("dockerd did not answer: %v: %s", err, out)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// serve serves h on l until Close.
func (e *Engine) serve(l net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	e.servers = append(e.servers, srv)
	go srv.Serve(l)
}

func (e *Engine) logFile(name string) *os.File {
	f, _ := os.Create(filepath.Join(e.dir, name))
	return f
}

// Logs are the tails of the Engine's logs, for failure messages.
func (e *Engine) Logs() string {
	var b strings.Builder
	for _, n := range []string{"holder.log", "containerd.log.err", "dockerd.log.err"} {
		dt, _ := os.ReadFile(filepath.Join(e.dir, n))
		fmt.Fprintf(&b, "--- %s (tail):\n%s\n", n, tail(string(dt), 3000))
	}
	return b.String()
}

// Docker runs the docker CLI against the Engine in dir, with extra environment, and
// returns its combined output.
func (e *Engine) Docker(ctx context.Context, dir string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), e.env...), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// Env is what the docker CLI needs to use the Engine: DOCKER_HOST, and DOCKER_CONFIG
// with buildx as its plugin.
func (e *Engine) Env() []string { return slices.Clone(e.env) }

// Close stops the Engine and removes its namespace.
func (e *Engine) Close() {
	for _, s := range e.servers {
		s.Close()
	}
	for i := len(e.procs) - 1; i >= 0; i-- {
		p := e.procs[i]
		if p.Process == nil {
			continue
		}
		_ = p.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = p.Process.Kill()
			<-done
		}
	}
	exec.Command("ip", "netns", "del", e.ns).Run()
}

// listenIn opens a TCP listener on addr inside the network namespace at nsPath: the
// socket is made on a thread that entered the namespace, and stays there.
func listenIn(nsPath, addr string) (net.Listener, error) {
	type result struct {
		l   net.Listener
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// The thread ends with the goroutine (still locked): it never serves another.
		runtime.LockOSThread()
		f, err := os.Open(nsPath)
		if err != nil {
			ch <- result{nil, err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{nil, fmt.Errorf("entering %s: %w", nsPath, err)}
			return
		}
		l, err := net.Listen("tcp", addr)
		ch <- result{l, err}
	}()
	r := <-ch
	return r.l, r.err
}

// pushEngineImages puts the images an Engine's builds pull under their docker.io names
// into the registry (the mirror serves docker.io's library/ and other repositories):
// the runner stand-in as python:3.12-alpine3.24, the frontend image as
// acai/frontend:latest and :1 (the examples' release channel).
func (b *Bed) pushEngineImages(ctx context.Context) error {
	for dst, src := range map[string]string{"library/python:3.12-alpine3.24": b.RunnerStandin, "acai/frontend:latest": b.Frontend, "acai/frontend:1": b.Frontend} {
		from, err := name.ParseReference(src, name.Insecure)
		if err != nil {
			return err
		}
		to, err := name.ParseReference(b.Registry+"/"+dst, name.Insecure)
		if err != nil {
			return err
		}
		desc, err := remote.Get(from, remote.WithContext(ctx))
		if err != nil {
			return err
		}
		if desc.MediaType.IsIndex() {
			idx, err := desc.ImageIndex()
			if err != nil {
				return err
			}
			err = remote.WriteIndex(to, idx, remote.WithContext(ctx))
		} else {
			img, err2 := desc.Image()
			if err2 != nil {
				return err2
			}
			err = remote.Write(to, img, remote.WithContext(ctx))
		}
		if err != nil {
			return fmt.Errorf("pushing %s as %s: %w", src, dst, err)
		}
	}
	return nil
}
