// Command quickstart builds an example Acaifile on the local test bed (buildkitd,
// loopback registry and package index, Debian stand-ins for the Alpine base images)
// through its `# syntax=` line, as `docker buildx build -f Acaifile` would, then runs
// the image and prints what it prints. hack/quickstart calls it where there is no
// Docker engine.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/acai-build/acai/integration/testbed"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run() error {
	example := "hello"
	if len(os.Args) > 1 {
		example = os.Args[1]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	start := time.Now()
	bed, err := testbed.StartScope(ctx, testbed.Quickstart)
	if err != nil {
		return err
	}
	defer bed.Close()
	fmt.Printf("==> test bed up in %s (frontend image %s)\n", time.Since(start).Round(time.Second), bed.Frontend)

	dir, err := os.MkdirTemp("", "acai-quickstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := testbed.CopyDir(filepath.Join(bed.Repo, "examples", example), dir); err != nil {
		return err
	}
	acaifile, err := os.ReadFile(filepath.Join(dir, "Acaifile"))
	if err != nil {
		return err
	}
	build := bed.StandinBuild(dir, "Acaifile")
	if err := os.WriteFile(filepath.Join(dir, "Acaifile"), []byte(bed.WithSyntax(string(acaifile))), 0o644); err != nil {
		return err
	}
	fmt.Printf("==> buildctl build --frontend dockerfile.v0 examples/%s (# syntax=%s)\n", example, bed.Frontend)
	for base, standin := range build.Contexts {
		fmt.Printf("    stand-ins: %s -> %s; PyPI -> %s\n", base, standin, bed.Index.URL)
	}
	res, err := bed.BuildWithBuildctl(ctx, build)
	if res != nil {
		fmt.Print(res.Log)
	}
	if err != nil {
		return err
	}
	fmt.Printf("==> running the image (entrypoint %q, user %s)\n", res.Config.Config.Entrypoint, res.Config.Config.User)
	out, err := res.Run(ctx)
	fmt.Print(out)
	if err != nil {
		return fmt.Errorf("the image's entrypoint failed: %w", err)
	}
	fmt.Printf("==> done in %s\n", time.Since(start).Round(time.Second))
	return nil
}
