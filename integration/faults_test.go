package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/acai-build/acai/integration/testbed"
)

// Eight builds of eight different Acaifiles at once on one daemon: each image is its own
// (its entrypoint's output, its environment, its user), none takes another's.
func TestConcurrentBuildsOfDifferentAcaifiles(t *testing.T) {
	t.Parallel()
	const n = 8
	builds := make([]testbed.Build, n)
	for i := range builds {
		acaifile := fmt.Sprintf("packages = [\"cowsay==6.1\"]\nentrypoint = [\"cowsay\", \"-t\", \"build %d\"]\nenv = { BUILD = \"%d\" }\n", i, i)
		files := map[string]string{}
		switch i % 4 {
		case 1: // a requirement file instead of packages
			acaifile = fmt.Sprintf("requirements = \"requirements.txt\"\nentrypoint = [\"cowsay\", \"-t\", \"build %d\"]\nenv = { BUILD = \"%d\" }\n", i, i)
			files["requirements.txt"] = "cowsay==6.1\n"
		case 2: // another user
			acaifile += fmt.Sprintf("user = \"%d:%d\"\n", 5000+i, 5000+i)
		case 3: // the Lambda layout
			acaifile += "[runtime]\nlayout = \"lambda\"\n"
		}
		builds[i] = standinBuild(t, project(t, acaifile, files))
	}
	results := make([]*testbed.Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range builds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = bed.BuildInProcess(testContext(t), builds[i])
		}()
	}
	wg.Wait()
	for i, res := range results {
		if errs[i] != nil {
			t.Errorf("build %d: %v", i, errs[i])
			continue
		}
		wantEqual(t, fmt.Sprintf("build %d: BUILD", i), res.Env()["BUILD"], fmt.Sprint(i))
		wantContains(t, fmt.Sprintf("build %d: output", i), run(t, res.Image), fmt.Sprintf("| build %d |", i))
		user := map[int]string{2: fmt.Sprintf("%d:%d", 5000+i, 5000+i)}[i%4]
		if user == "" {
			user = "appuser"
		}
		wantEqual(t, fmt.Sprintf("build %d: User", i), res.Config.Config.User, user)
		wantEqual(t, fmt.Sprintf("build %d: lambda layout", i), res.Exists("/var/task/cowsay"), i%4 == 3)
	}
}

// buildkitd killed in the middle of a compile (a package made by the test whose build
// sleeps: the property needed is a long step; it compiles in its wheel stage) fails the
// build with an error, exports nothing, and the same state directory serves the next
// build once the daemon is restarted.
func TestDaemonKilledDuringTheInstall(t *testing.T) {
	t.Parallel()
	const marker = "6017" // `sleep 6017`: the compile, seen from the host
	if err := bed.Index.PublishSdist(testbed.Sdist{Name: "acai-test-slow-build", Version: "1.0", Files: map[string]string{
		// Static metadata (2.2, nothing dynamic): the resolver reads it without building.
		"PKG-INFO":       "Metadata-Version: 2.2\nName: acai-test-slow-build\nVersion: 1.0\n",
		"setup.py":       "import os\nos.system('sleep " + marker + "')\nfrom setuptools import setup\nsetup(name='acai-test-slow-build', version='1.0', py_modules=[])\n",
		"pyproject.toml": "[build-system]\nrequires = [\"setuptools\"]\nbuild-backend = \"setuptools.build_meta\"\n",
	}}); err != nil {
		t.Fatal(err)
	}
	killContainersOf(marker) // an earlier run's
	root := filepath.Join(t.TempDir(), "buildkitd")
	// The killed daemon leaves its step's mounts behind; they go before the directory.
	t.Cleanup(func() { unmountBelow(root) })
	d, err := bed.StartDaemon(testContext(t), root, "killed-buildkitd")
	if err != nil {
		t.Fatal(err)
	}
	dir := project(t, bed.WithSyntax("packages = [\"acai-test-slow-build==1.0\"]\n"), nil)
	o := standinBuild(t, dir)
	o.Addr = d.Socket
	type outcome struct {
		res     *testbed.Result
		tarPath string
		err     error
	}
	done := make(chan outcome, 1)
	go func() {
		res, tarPath, err := bed.BuildctlToOCI(testContext(t), o)
		done <- outcome{res, tarPath, err}
	}()
	ctx, cancel := context.WithTimeout(testContext(t), 5*time.Minute)
	defer cancel()
	if err := waitForProcess(ctx, "sleep\x00"+marker); err != nil {
		d.Kill()
		t.Fatalf("the install never started: %v\n%s", err, (<-done).res.Log)
	}
	d.Kill()
	var got outcome
	select {
	case got = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("buildctl did not return after its daemon was killed")
	}
	if got.err == nil {
		t.Fatal("the build succeeded although its daemon was killed")
	}
	t.Logf("buildctl after the kill: %s", lastLine(got.err.Error()))
	wantContains(t, "buildctl output", got.res.Log, "[wheels] acai-test-slow-build 1.0 from its source distribution (pip wheel)")
	if fi, err := os.Stat(got.tarPath); err == nil && fi.Size() > 0 {
		t.Errorf("an image (%d bytes) was exported by the killed build", fi.Size())
	}
	// The step's container outlives the daemon, as after a crash: the test ends it.
	killContainersOf(marker)

	d, err = bed.StartDaemon(testContext(t), root, "restarted-buildkitd")
	if err != nil {
		t.Fatalf("buildkitd does not start again on the killed one's state: %v", err)
	}
	defer d.Stop()
	next := project(t, "packages = [\"cowsay==6.1\"]\nentrypoint = [\"cowsay\", \"-t\", \"after the kill\"]\n", nil)
	o = standinBuild(t, next)
	o.Client = d.Client
	res := mustBuild(t, bed.BuildInProcess, o)
	wantContains(t, "output", run(t, res.Image), "| after the kill |")
}

// waitForProcess waits for a host process whose NUL-separated command line contains s.
func waitForProcess(ctx context.Context, s string) error {
	for {
		if len(findProcesses(s)) > 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func findProcesses(s string) []string {
	var pids []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil && strings.Contains(string(cmdline), s) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// killContainersOf kills every process in the PID namespace of the build step whose
// command line holds `sleep marker`: the step's container, orphaned by the kill.
func killContainersOf(marker string) {
	for _, pid := range findProcesses("sleep\x00" + marker) {
		ns, err := os.Readlink(filepath.Join("/proc", pid, "ns/pid"))
		if err != nil {
			continue
		}
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			if other, err := os.Readlink(filepath.Join("/proc", e.Name(), "ns/pid")); err == nil && other == ns {
				_ = syscall.Kill(atoi(e.Name()), syscall.SIGKILL)
			}
		}
	}
	time.Sleep(500 * time.Millisecond)
}

// unmountBelow detaches every mount below dir, deepest first.
func unmountBelow(dir string) {
	dt, _ := os.ReadFile("/proc/self/mountinfo")
	var points []string
	for _, line := range strings.Split(string(dt), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			points = append(points, f[4])
		}
	}
	for i := len(points) - 1; i >= 0; i-- {
		_ = syscall.Unmount(points[i], syscall.MNT_DETACH)
	}
}

func atoi(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}
