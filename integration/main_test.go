// Package integration proves acai on a real BuildKit: every test builds an Acaifile
// through buildkitd and checks the image a user would get.
//
// Stand-ins, said plainly: there is no Alpine or Docker Hub here, and build containers
// never reach PyPI. The base image python:X-alpineY is replaced (through a named build
// context, as a user would point at a mirror) by a Debian bookworm image whose /sbin/apk
// records what it is asked to add and installs the Debian equivalents; the uv image by one
// made from the pinned uv wheel. Python packages are real files from PyPI, pinned in
// integration/pypi/pypi.lock and fetched on the host, served by a loopback index, beside
// a few the tests make where a property needs one. See integration/testbed.
package integration

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/acai-build/acai/frontend"
	"github.com/acai-build/acai/integration/testbed"
)

var bed *testbed.Bed

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	start := time.Now()
	var err error
	bed, err = testbed.Start(ctx)
	cancel()
	if err != nil {
		// Never a skip: without the test bed nothing here is proven.
		fmt.Fprintf(os.Stderr, "FAIL: the BuildKit test bed did not start: %v\n", err)
		os.Exit(1)
	}
	testbed.Logf("up in %s: buildkitd %s, registry %s, index %s, frontend %s",
		time.Since(start).Round(time.Millisecond), bed.Socket, bed.Registry, bed.Index.URL, bed.Frontend)
	if err := publishTestPackages(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: publishing test packages: %v\n", err)
		bed.Close()
		os.Exit(1)
	}
	// The Dockerfiles tests eject say the release the test bed's frontend image says.
	frontend.Version = testbed.FrontendVersion
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "buildkitd log (tail):\n%s\n", bed.BuildkitdLog())
	}
	bed.Close()
	os.Exit(code)
}

func publishTestPackages() error {
	idx := bed.Index
	// Made by the test bed, where a property needs a package no real one has: a
	// dependency that exists nowhere (no_deps), and packages only one index option reaches.
	for _, w := range []testbed.Wheel{testbed.Module("needsdep", "1.0", "missingdep>=1"), testbed.Module("testhelper", "1.0")} {
		if err := idx.Publish(w); err != nil {
			return err
		}
	}
	// Reachable only through [build].extra_index_urls and [build].find_links.
	if err := idx.PublishAt("extra/simple/extrapkg", testbed.Module("extrapkg", "1.0")); err != nil {
		return err
	}
	if err := idx.PublishAt("flat", testbed.Module("flatpkg", "1.0")); err != nil {
		return err
	}
	return nil
}
