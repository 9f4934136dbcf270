// Command bench measures acai on the test bed and prints tables: acai against the
// hand-written Dockerfile recipe on the same daemon and stand-ins (built by BuildKit's
// built-in Dockerfile frontend and by the Dockerfile frontend run as a syntax image), and
// pip against uv installing the same real package set. It is a benchmark, not a test: it
// prints medians and ratios and never fails on a number. Run it with `bash hack/bench`.
//
//	ACAI_BENCH_RUNS=5   runs per figure (alternating between the builds compared)
//	ACAI_BENCH_ONLY=small|bigcontext|real|installers|toolchain|cross|plan|layers|slim|steps|export|wheels   only that table
//	ACAI_BENCH_BASELINE=<git rev>   also time acai built from that commit in the small
//	                                app's table, the no-op timeline and the plan table,
//	                                alternating with the working tree's
//	ACAI_BENCH_TIMELINE=1   steps: also print each side's first cold build vertex by vertex
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/acai-build/acai/integration/testbed"
	"github.com/acai-build/acai/spec"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/moby/buildkit/client"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

var runs = 5

func run() error {
	if v, err := strconv.Atoi(os.Getenv("ACAI_BENCH_RUNS")); err == nil && v > 0 {
		runs = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Hour)
	defer cancel()
	bed, err := testbed.Start(ctx)
	if err != nil {
		return err
	}
	defer bed.Close()
	syntaxImage, err := pushDockerfileFrontend(ctx, bed)
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	fmt.Printf("acai benchmark: %d runs per figure, medians; %s, %d cores, buildkitd v0.33.1; Debian stand-ins for the Alpine images\n\n", runs, host, numCPU())
	if fi, err := os.Stat(filepath.Join(bed.Cache, "bin", dockerfileFrontendBinary)); err == nil {
		fmt.Printf("Frontend images (one static binary each): acai %.1f MB, BuildKit's Dockerfile frontend %.1f MB\n\n", float64(bed.FrontendBinarySize)/1e6, float64(fi.Size())/1e6)
	}
	tables := []struct {
		name string
		run  func() error
	}{
		{"small", func() error { return smallApp(ctx, bed, syntaxImage, os.Getenv("ACAI_BENCH_BASELINE")) }},
		{"bigcontext", func() error { return bigContext(ctx, bed, syntaxImage) }},
		{"real", func() error { return realPackages(ctx, bed) }},
		{"installers", func() error { return installers(ctx, bed) }},
		{"toolchain", func() error { return lazyToolchain(ctx, bed) }},
		{"cross", func() error { return crossPlatforms(ctx, bed) }},
		{"plan", func() error { return planRequests(ctx, bed, os.Getenv("ACAI_BENCH_BASELINE")) }},
		{"layers", func() error { return packageLayers(ctx, bed) }},
		{"slim", func() error { return slimImages(ctx, bed) }},
		{"steps", func() error { return stepBreakdown(ctx, bed) }},
		{"export", func() error { return exportSettings(ctx, bed) }},
		{"wheels", func() error { return sharedWheels(ctx, bed) }},
	}
	only := os.Getenv("ACAI_BENCH_ONLY")
	for _, table := range tables {
		if only == "" || only == table.name {
			if err := table.run(); err != nil {
				return err
			}
		}
	}
	return nil
}

// smallAppCode is the small app of smallApp and bigContext, without its requirements.
var smallAppCode = map[string]string{"app/__init__.py": "", "app/__main__.py": "import cowsay\nprint(cowsay.get_output_string('cow', 'bench'))\n"}

// handwrittenRecipe is the hand-written Dockerfile acai is compared with.
func handwrittenRecipe(bed *testbed.Bed) ([]byte, error) {
	return os.ReadFile(filepath.Join(bed.Repo, "integration/testdata/handwritten/Dockerfile"))
}

// bigContextMB is the size of the data beside the app in bigContext's checkouts.
const bigContextMB = 200

// bigContext times the small app's build from a fresh checkout (the whole context is
// uploaded) that also holds bigContextMB of data, with a requirement no earlier build had:
// acai's resolve and install take their inputs from its reads of the requirement files, so
// they run while the context uploads; the hand-written recipe's COPY requirements.txt
// waits for the whole upload.
func bigContext(ctx context.Context, bed *testbed.Bed, syntaxImage string) error {
	handwritten, err := handwrittenRecipe(bed)
	if err != nil {
		return err
	}
	blob, err := os.CreateTemp("", "acai-bench-data-")
	if err != nil {
		return err
	}
	defer os.Remove(blob.Name())
	chunk := make([]byte, 1<<20)
	for i := 0; i < bigContextMB; i++ {
		for j := range chunk { // not compressible, not all the same
			chunk[j] = byte(i*31 + j*7 + j>>9)
		}
		if _, err := blob.Write(chunk); err != nil {
			return err
		}
	}
	if err := blob.Close(); err != nil {
		return err
	}
	variants := []struct{ name, file, content string }{
		{"acai", "Acaifile", bed.WithSyntax("# syntax=acai/frontend\npython = \"3.12\"\nalpine = \"3.24\"\nrequirements = \"requirements.txt\"\nentrypoint = [\"python\", \"-m\", \"app\"]\n")},
		{"syntax image", "Dockerfile", "# syntax=" + syntaxImage + "\n" + string(handwritten)},
	}
	times := make([][]time.Duration, len(variants))
	for i := 0; i < runs; i++ {
		for j, v := range variants {
			files := maps.Clone(smallAppCode)
			files[v.file] = v.content
			o, err := freshBuild(bed, []byte("cowsay==6.1\ntzdata==2026.6\n"), files)
			if err != nil {
				return err
			}
			defer os.RemoveAll(o.Dir)
			if err := os.MkdirAll(filepath.Join(o.Dir, "data"), 0o755); err != nil {
				return err
			}
			if err := os.Link(blob.Name(), filepath.Join(o.Dir, "data", "blob.bin")); err != nil {
				return err
			}
			o.Filename = v.file
			start := time.Now()
			if _, err := bed.BuildctlNoExport(ctx, o); err != nil {
				return fmt.Errorf("%s: %w", v.name, err)
			}
			times[j] = append(times[j], time.Since(start))
		}
	}
	a, b := median(times[0]), median(times[1])
	fmt.Printf("Small app in a fresh checkout with %d MB of data beside it, one requirement new to the cache, seconds per build (`buildctl build`, exporting nothing):\n", bigContextMB)
	fmt.Printf("| %-10s | %14s | %12s |\n", "acai", "syntax image", "acai/syntax")
	fmt.Println("|---|---|---|")
	fmt.Printf("| %10.2f | %14.2f | %12.2f |\n", a, b, a/b)
	fmt.Println()
	return nil
}

// lazyToolchain times what the resolution saves an all-wheel app (examples/lambda's
// set): the toolchain step a builder had before acai resolved ahead (as --target
// builder still has it, re-run with --no-cache-filter builder), against the resolve
// step that replaces it (re-run by a new comment in the requirements).
func lazyToolchain(ctx context.Context, bed *testbed.Bed) error {
	reqs, err := os.ReadFile(filepath.Join(bed.Repo, "examples/lambda/requirements.txt"))
	if err != nil {
		return err
	}
	var toolchain, resolve []time.Duration
	for i := 0; i < runs; i++ {
		o, err := freshBuild(bed, reqs, map[string]string{"Acaifile": "python = \"3.12\"\nrequirements = \"requirements.txt\"\n"})
		if err != nil {
			return err
		}
		defer os.RemoveAll(o.Dir)
		builder := o
		builder.Target, builder.Opts = "builder", map[string]string{"no-cache": "builder"}
		full, err := bed.BuildInProcess(ctx, builder)
		if err != nil {
			return err
		}
		step, ok := full.Step("[builder] apk add")
		if !ok || step.Cached {
			return fmt.Errorf("no toolchain step ran:\n%s", full.Log)
		}
		toolchain = append(toolchain, step.Duration)
		planned, err := bed.BuildInProcess(ctx, o)
		if err != nil {
			return err
		}
		if _, ok := planned.Step("[builder] apk add"); ok {
			return fmt.Errorf("the all-wheel builder has a toolchain step:\n%s", planned.Log)
		}
		step, ok = planned.Step("[resolve] resolve")
		if !ok || step.Cached {
			return fmt.Errorf("no resolve step ran:\n%s", planned.Log)
		}
		resolve = append(resolve, step.Duration)
	}
	fmt.Println()
	fmt.Println("Lazy toolchain, examples/lambda's all-wheel set, seconds of the step:")
	fmt.Printf("| %-58s | %8s |\n", "step", "seconds")
	fmt.Println("|---|---|")
	fmt.Printf("| %-58s | %8.2f |\n", "[builder] apk add build-base linux-headers git ... (before)", median(toolchain))
	fmt.Printf("| %-58s | %8.2f |\n", "[resolve] uv pip compile for musllinux_1_2_x86_64 (now)", median(resolve))
	return nil
}

// planRequests times what answers before a build, on examples/lambda's set with its
// resolution cached: `--call plan` and `--check`, which stop at the resolution and make
// no graph of the image, against a no-op build of the same Acaifile. With a baseline
// commit, acai built from it answers the same requests, alternating.
func planRequests(ctx context.Context, bed *testbed.Bed, baseline string) error {
	reqs, err := os.ReadFile(filepath.Join(bed.Repo, "examples/lambda/requirements.txt"))
	if err != nil {
		return err
	}
	frontends := []struct{ name, ref string }{{"acai", bed.Frontend}}
	if baseline != "" {
		ref, err := bed.FrontendImageAt(ctx, baseline)
		if err != nil {
			return err
		}
		frontends = append(frontends, struct{ name, ref string }{"acai at " + baseline, ref})
	}
	requests := []struct{ name, id string }{{"--call plan", "frontend.plan"}, {"--check", "frontend.lint"}, {"no-op build", ""}}
	var builds []testbed.Build
	for _, f := range frontends {
		o, err := freshBuild(bed, reqs, map[string]string{"Acaifile": "# syntax=" + f.ref + "\npython = \"3.12\"\nrequirements = \"requirements.txt\"\n"})
		if err != nil {
			return err
		}
		defer os.RemoveAll(o.Dir)
		if _, err := bed.BuildctlNoExport(ctx, o); err != nil { // the resolution and the install cached
			return fmt.Errorf("%s: %w", f.name, err)
		}
		builds = append(builds, o)
	}
	times := make([][][]time.Duration, len(requests))
	for r := range requests {
		times[r] = make([][]time.Duration, len(frontends))
	}
	for i := 0; i < 3*runs; i++ {
		for r, req := range requests {
			for f := range frontends {
				o := builds[f]
				build := bed.BuildctlNoExport
				if req.id != "" {
					o.Opts, build = map[string]string{"requestid": req.id}, bed.BuildctlRequest
				}
				start := time.Now()
				if _, err := build(ctx, o); err != nil {
					return fmt.Errorf("%s %s: %w", frontends[f].name, req.name, err)
				}
				times[r][f] = append(times[r][f], time.Since(start))
			}
		}
	}
	fmt.Println()
	fmt.Println("Before a build, examples/lambda's set, resolution cached, seconds per request:")
	header, rule := fmt.Sprintf("| %-12s |", "request"), "|---|"
	for _, f := range frontends {
		header, rule = header+fmt.Sprintf(" %14s |", f.name), rule+"---|"
	}
	if baseline != "" {
		header, rule = header+fmt.Sprintf(" %14s |", "acai/at "+baseline), rule+"---|"
	}
	fmt.Println(header)
	fmt.Println(rule)
	for r, req := range requests {
		line := fmt.Sprintf("| %-12s |", req.name)
		for f := range frontends {
			line += fmt.Sprintf(" %14.2f |", median(times[r][f]))
		}
		if baseline != "" {
			line += fmt.Sprintf(" %14.2f |", median(times[r][0])/median(times[r][1]))
		}
		fmt.Println(line)
	}
	return nil
}

// crossPlatforms times a build of examples/lambda's real wheel set (numpy, pandas,
// pyarrow, ...) for linux/amd64 alone and for linux/amd64,linux/arm64, alternating,
// each with requirements no earlier build had (a new comment) and the download cache
// warm: the arm64 image is cross-built on this amd64 machine, with no emulator.
func crossPlatforms(ctx context.Context, bed *testbed.Bed) error {
	reqs, err := os.ReadFile(filepath.Join(bed.Repo, "examples/lambda/requirements.txt"))
	if err != nil {
		return err
	}
	platforms := []string{"linux/amd64", "linux/amd64,linux/arm64"}
	times := make([][]time.Duration, len(platforms))
	for i := 0; i <= runs; i++ { // run 0 fills the download cache with the arm64 wheels
		for j, p := range platforms {
			o, err := freshBuild(bed, reqs, map[string]string{"Acaifile": bed.WithSyntax("# syntax=acai/frontend\npython = \"3.12\"\nalpine = \"3.24\"\nrequirements = \"requirements.txt\"\n")})
			if err != nil {
				return err
			}
			defer os.RemoveAll(o.Dir)
			o.Opts = map[string]string{"platform": p}
			start := time.Now()
			if _, err := bed.BuildctlNoExport(ctx, o); err != nil {
				return fmt.Errorf("--platform %s: %w", p, err)
			}
			if i > 0 {
				times[j] = append(times[j], time.Since(start))
			}
		}
	}
	one, two := median(times[0]), median(times[1])
	fmt.Println("Cross-platform, examples/lambda's wheel set, seconds per whole build (`buildctl build`, exporting nothing), requirements new each time, download cache warm; arm64 cross-built on this amd64 machine, no emulator:")
	fmt.Printf("| %-40s | %8s |\n", "--platform", "seconds")
	fmt.Println("|---|---|")
	fmt.Printf("| %-40s | %8.2f |\n", platforms[0], one)
	fmt.Printf("| %-40s | %8.2f |\n", platforms[1], two)
	fmt.Printf("| %-40s | %8.2f |\n", "two platforms / one (goal <= 1.3)", two/one)
	fmt.Println()
	return nil
}

// lambdaSet is examples/lambda's requirements and the hand-written recipe they are
// compared with.
func lambdaSet(bed *testbed.Bed) (reqs, handwritten []byte, err error) {
	if reqs, err = os.ReadFile(filepath.Join(bed.Repo, "examples/lambda/requirements.txt")); err != nil {
		return nil, nil, err
	}
	handwritten, err = handwrittenRecipe(bed)
	return reqs, handwritten, err
}

// lambdaSetAcaifile builds lambdaSetApp with lambdaSet's requirements, as the Lambda
// example does (its [runtime] table last, for variants to add to).
const lambdaSetAcaifile = "python = \"3.12\"\nalpine = \"3.24\"\nrequirements = \"requirements.txt\"\nentrypoint = [\"python\", \"-m\", \"app\"]\n[runtime]\nlayout = \"lambda\"\n"

// lambdaSetApp is the app built with lambdaSet's requirements.
var lambdaSetApp = map[string]string{"app/__init__.py": "", "app/__main__.py": "import pandas\nprint(pandas.__version__)\n"}

// realPackages times whole builds of an app needing the real set of the Lambda example
// (numpy, pandas, pyarrow, ...): acai with pip and with uv against the hand-written
// recipe on the built-in frontend, each with requirements no earlier build had (a new
// comment), cold (cache mounts pruned) and warm.
func realPackages(ctx context.Context, bed *testbed.Bed) error {
	reqs, handwritten, err := lambdaSet(bed)
	if err != nil {
		return err
	}
	app := lambdaSetApp
	variants := []struct{ name, file, content string }{
		{"acai (pip)", "Acaifile", bed.WithSyntax("# syntax=acai/frontend\npython = \"3.12\"\nalpine = \"3.24\"\nrequirements = \"requirements.txt\"\nentrypoint = [\"python\", \"-m\", \"app\"]\n")},
		{"acai (uv)", "Acaifile", bed.WithSyntax("# syntax=acai/frontend\npython = \"3.12\"\nalpine = \"3.24\"\nrequirements = \"requirements.txt\"\nentrypoint = [\"python\", \"-m\", \"app\"]\n[build]\ninstaller = \"uv\"\n")},
		{"hand-written", "Dockerfile", string(handwritten)},
	}
	fmt.Println("App with examples/lambda/requirements.txt (numpy, pandas, pyarrow, ...), seconds per whole build (`buildctl build`, exporting nothing), requirements new to the cache each time:")
	fmt.Printf("| %-28s | %10s | %10s | %12s | %14s | %14s |\n", "cache mounts", "acai (pip)", "acai (uv)", "hand-written", "pip/hand-wr.", "uv/hand-wr.")
	fmt.Println("|---|---|---|---|---|---|")
	for _, cold := range []bool{true, false} {
		times := make([][]time.Duration, len(variants))
		for i := 0; i < runs; i++ {
			for j, v := range variants {
				files := maps.Clone(app)
				files[v.file] = v.content
				o, err := freshBuild(bed, reqs, files)
				if err != nil {
					return err
				}
				defer os.RemoveAll(o.Dir)
				o.Filename = v.file
				if cold {
					if err := bed.Client.Prune(ctx, nil, client.WithFilter([]string{"type==exec.cachemount"})); err != nil {
						return err
					}
				}
				start := time.Now()
				if _, err := bed.BuildctlNoExport(ctx, o); err != nil {
					return fmt.Errorf("%s: %w", v.name, err)
				}
				times[j] = append(times[j], time.Since(start))
			}
		}
		name := "warm (download cache filled)"
		if cold {
			name = "cold (pruned)"
		}
		m := []float64{median(times[0]), median(times[1]), median(times[2])}
		fmt.Printf("| %-28s | %10.2f | %10.2f | %12.2f | %14.2f | %14.2f |\n", name, m[0], m[1], m[2], m[0]/m[2], m[1]/m[2])
	}
	fmt.Println()
	return nil
}

// packageLayers compares one layer per package with one dependency layer and with the
// hand-written recipe, on examples/lambda's set: a cold build (every cache pruned), then
// one requirement added (cowsay) and the rebuild, exported to an OCI layout each time.
// What the change ships is the bytes of the rebuilt image's layers (compressed) that the
// first image did not have: what a push sends and a node pulls. The push is timed too:
// the first image pushed to the loopback registry, then the rebuilt one to the same
// name (its build all CACHED: what the time holds is the export and the upload of what
// the registry lacks).
func packageLayers(ctx context.Context, bed *testbed.Bed) error {
	reqs, handwritten, err := lambdaSet(bed)
	if err != nil {
		return err
	}
	acai := lambdaSetAcaifile
	variants := []struct{ name, file, content string }{
		{"acai, one layer per package", "Acaifile", bed.WithSyntax(acai)},
		{"acai, layers = \"single\"", "Acaifile", bed.WithSyntax(acai + "layers = \"single\"\n")},
		{"hand-written", "Dockerfile", string(handwritten)},
	}
	fmt.Println("examples/lambda's set, one layer per package against one: a cold build (all build cache pruned), then cowsay==6.1 added to the requirements and the rebuild; seconds (`buildctl build` to an OCI layout), the compressed bytes of the rebuilt image's layers that the first image lacks (what a push sends), and the push of the rebuilt image to a registry that holds the first (its build CACHED):")
	fmt.Printf("| %-30s | %8s | %12s | %14s | %14s | %12s |\n", "variant", "cold", "rebuild", "new layers, MB", "all layers, MB", "push, s")
	fmt.Println("|---|---|---|---|---|---|")
	for _, v := range variants {
		var cold, rebuild, push []time.Duration
		var newBytes, allBytes []int64
		for i := 0; i < runs; i++ {
			o, first, took, _, err := coldLambdaBuild(ctx, bed, reqs, v.file, v.content, "")
			if err != nil {
				return fmt.Errorf("%s: %w", v.name, err)
			}
			defer os.RemoveAll(o.Dir)
			cold = append(cold, took)
			ref := fmt.Sprintf("%s/acai-bench/layers-%d-%d:latest", bed.Registry, time.Now().UnixNano(), i)
			if _, err := bed.BuildctlPush(ctx, o, ref, ""); err != nil {
				return fmt.Errorf("%s, first push: %w", v.name, err)
			}
			if err := os.WriteFile(filepath.Join(o.Dir, "requirements.txt"), append(slices.Clone(reqs), "cowsay==6.1\n"...), 0o644); err != nil {
				return err
			}
			start := time.Now()
			_, second, err := bed.BuildctlToOCI(ctx, o)
			if err != nil {
				return fmt.Errorf("%s, cowsay added: %w", v.name, err)
			}
			rebuild = append(rebuild, time.Since(start))
			start = time.Now()
			if _, err := bed.BuildctlPush(ctx, o, ref, ""); err != nil {
				return fmt.Errorf("%s, push of the rebuilt image: %w", v.name, err)
			}
			push = append(push, time.Since(start))
			n, all, err := newLayerBytes(first, second)
			if err != nil {
				return err
			}
			newBytes, allBytes = append(newBytes, n), append(allBytes, all)
		}
		fmt.Printf("| %-30s | %8.2f | %12.2f | %14.2f | %14.2f | %12.2f |\n", v.name, median(cold), median(rebuild), medianBytes(newBytes)/1e6, medianBytes(allBytes)/1e6, median(push))
	}
	fmt.Println()
	return nil
}

// coldLambdaBuild writes lambdaSetApp, the requirements and the variant's build file
// into a new directory, prunes all build cache and builds it to an OCI layout, with
// buildctl's progress in the given format ("" for plain): the build (its Dir to remove
// when done), the layout, the seconds the build took and the progress.
func coldLambdaBuild(ctx context.Context, bed *testbed.Bed, reqs []byte, file, content, progress string) (testbed.Build, string, time.Duration, string, error) {
	files := maps.Clone(lambdaSetApp)
	files[file] = content
	files["requirements.txt"] = string(reqs)
	dir, err := os.MkdirTemp("", "acai-bench-")
	if err != nil {
		return testbed.Build{}, "", 0, "", err
	}
	if err := testbed.WriteFiles(dir, files); err != nil {
		return testbed.Build{Dir: dir}, "", 0, "", err
	}
	o := bed.StandinBuild(dir, "") // after the files: it reads the Acaifile's base image
	o.Filename, o.Progress = file, progress
	if err := bed.Client.Prune(ctx, nil, client.PruneAll); err != nil {
		return o, "", 0, "", err
	}
	start := time.Now()
	res, layout, err := bed.BuildctlToOCI(ctx, o)
	if err != nil {
		return o, "", 0, "", err
	}
	return o, layout, time.Since(start), res.Log, nil
}

// slimImages compares slimming ([runtime] slim, the default) with slim = false and with
// the hand-written recipe on examples/lambda's set: a cold build's seconds (all build
// cache pruned, `buildctl build` to an OCI layout), the image's bytes compressed and
// uncompressed, and the uncompressed bytes of acai's dependency layers ([deps] in the
// history; the recipe's are its copy of the builder's site-packages, not told apart).
func slimImages(ctx context.Context, bed *testbed.Bed) error {
	reqs, handwritten, err := lambdaSet(bed)
	if err != nil {
		return err
	}
	acai := lambdaSetAcaifile
	variants := []struct{ name, file, content string }{
		{"acai (slim, the default)", "Acaifile", bed.WithSyntax(acai)},
		{"acai, slim = false", "Acaifile", bed.WithSyntax(acai + "slim = false\n")},
		{"hand-written", "Dockerfile", string(handwritten)},
	}
	fmt.Println("examples/lambda's set, slimming against none: a cold build (all build cache pruned), seconds (`buildctl build` to an OCI layout); the image's bytes, compressed (gzip, as pushed) and uncompressed; acai's dependency layers, uncompressed:")
	fmt.Printf("| %-26s | %8s | %18s | %20s | %16s |\n", "variant", "cold", "image MB (gzip)", "image MB (uncompr.)", "dependencies MB")
	fmt.Println("|---|---|---|---|---|")
	for _, v := range variants {
		var cold []time.Duration
		var gz, raw, deps int64
		for i := 0; i < runs; i++ {
			o, out, took, _, err := coldLambdaBuild(ctx, bed, reqs, v.file, v.content, "")
			if err != nil {
				return fmt.Errorf("%s: %w", v.name, err)
			}
			defer os.RemoveAll(o.Dir)
			cold = append(cold, took)
			if gz, raw, deps, err = imageBytes(out); err != nil {
				return err
			}
		}
		fmt.Printf("| %-26s | %8.2f | %18.2f | %20.2f | %16.2f |\n", v.name, median(cold), float64(gz)/1e6, float64(raw)/1e6, float64(deps)/1e6)
	}
	fmt.Println()
	return nil
}

// imageBytes are the compressed and uncompressed sizes of the layers of the one image in
// the OCI layout dir, and the uncompressed size of those whose history says [deps].
func imageBytes(dir string) (gz, raw, deps int64, err error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return 0, 0, 0, err
	}
	m, err := idx.IndexManifest()
	if err != nil || len(m.Manifests) != 1 {
		return 0, 0, 0, fmt.Errorf("%s: one image expected: %v", dir, err)
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		return 0, 0, 0, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return 0, 0, 0, err
	}
	ls, err := img.Layers()
	if err != nil {
		return 0, 0, 0, err
	}
	var history []v1.History
	for _, h := range cfg.History {
		if !h.EmptyLayer {
			history = append(history, h)
		}
	}
	for i, l := range ls {
		size, err := l.Size()
		if err != nil {
			return 0, 0, 0, err
		}
		rc, err := l.Uncompressed()
		if err != nil {
			return 0, 0, 0, err
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return 0, 0, 0, err
		}
		gz, raw = gz+size, raw+n
		if i < len(history) && strings.HasPrefix(history[i].CreatedBy, "[deps] ") {
			deps += n
		}
	}
	return gz, raw, deps, nil
}

// newLayerBytes is the compressed size of the layers of the image in the OCI layout
// after that the one in before lacks, and of all its layers.
func newLayerBytes(before, after string) (int64, int64, error) {
	layers := func(dir string) (map[string]int64, error) {
		idx, err := layout.ImageIndexFromPath(dir)
		if err != nil {
			return nil, err
		}
		m, err := idx.IndexManifest()
		if err != nil || len(m.Manifests) != 1 {
			return nil, fmt.Errorf("%s: one image expected: %v", dir, err)
		}
		img, err := idx.Image(m.Manifests[0].Digest)
		if err != nil {
			return nil, err
		}
		mf, err := img.Manifest()
		if err != nil {
			return nil, err
		}
		out := map[string]int64{}
		for _, l := range mf.Layers {
			out[l.Digest.String()] = l.Size
		}
		return out, nil
	}
	b, err := layers(before)
	if err != nil {
		return 0, 0, err
	}
	a, err := layers(after)
	if err != nil {
		return 0, 0, err
	}
	var n, all int64
	for d, size := range a {
		all += size
		if _, ok := b[d]; !ok {
			n += size
		}
	}
	return n, all, nil
}

func medianBytes(xs []int64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return float64(s[len(s)/2])
}

// smallApp times the everyday rebuilds of a small app: acai through its # syntax line,
// the hand-written recipe through the built-in Dockerfile frontend, and the same
// recipe through the Dockerfile frontend as a syntax image (# syntax=docker/dockerfile:1).
// With a baseline commit, acai built from it is timed too, in the same alternation: a
// change's effect on a fifth of a second, which drifts more than that from one run of the
// bench to the next.
func smallApp(ctx context.Context, bed *testbed.Bed, syntaxImage, baseline string) error {
	files := maps.Clone(smallAppCode)
	files["requirements.txt"] = "cowsay==6.1\n"
	handwritten, err := handwrittenRecipe(bed)
	if err != nil {
		return err
	}
	type variant struct {
		name string
		dir  string
		o    testbed.Build
	}
	mk := func(name, buildFile, content string) (variant, error) {
		dir, err := os.MkdirTemp("", "acai-bench-")
		if err != nil {
			return variant{}, err
		}
		if err := testbed.WriteFiles(dir, files); err != nil {
			return variant{}, err
		}
		if err := os.WriteFile(filepath.Join(dir, buildFile), []byte(content), 0o644); err != nil {
			return variant{}, err
		}
		return variant{name, dir, bed.StandinBuild(dir, buildFile)}, nil
	}
	const acaifile = "python = \"3.12\"\nalpine = \"3.24\"\nrequirements = \"requirements.txt\"\nentrypoint = [\"python\", \"-m\", \"app\"]\n"
	// uvImage: uv from its image (a named build context for spec.UVImage, its stand-in),
	// as acai before uv came from the Python index needed, rather than from the index.
	mkAcai := func(name, frontend string, uvImage bool) (variant, error) {
		v, err := mk(name, "Acaifile", "# syntax="+frontend+"\n"+acaifile)
		if uvImage {
			v.o.Contexts[spec.UVImage] = "docker-image://" + bed.UVStandin
		}
		return v, err
	}
	acai, err := mkAcai("acai", bed.Frontend, false)
	if err != nil {
		return err
	}
	acaiUVImage, err := mkAcai("acai, uv from its image", bed.Frontend, true)
	if err != nil {
		return err
	}
	builtin, err := mk("hand-written, built-in frontend", "Dockerfile", string(handwritten))
	if err != nil {
		return err
	}
	viaSyntax, err := mk("hand-written, # syntax image", "Dockerfile", "# syntax="+syntaxImage+"\n"+string(handwritten))
	if err != nil {
		return err
	}
	variants := []variant{acai, builtin, viaSyntax, acaiUVImage}
	timed := map[string]testbed.Build{"acai": acai.o, "syntax image": viaSyntax.o} // step by step
	if baseline != "" {
		ref, err := bed.FrontendImageAt(ctx, baseline)
		if err != nil {
			return err
		}
		atBaseline, err := mkAcai("acai at "+baseline, ref, true)
		if err != nil {
			return err
		}
		variants = append(variants, atBaseline)
		timed[atBaseline.name] = atBaseline.o
	}
	for _, v := range variants {
		defer os.RemoveAll(v.dir)
		if _, err := bed.BuildWithBuildctl(ctx, v.o); err != nil { // warm the cache
			return fmt.Errorf("%s: %w", v.name, err)
		}
	}
	scenarios := []struct {
		name   string
		change func(dir string, i int) error
		runs   int
	}{
		// The rebuilds take a fifth of a second and differ by a few hundredths, about as
		// much as one run from the next on a 2-core machine: three times the runs, for
		// medians that move less (they cost seconds).
		{"no-op rebuild", func(string, int) error { return nil }, 3 * runs},
		{"app-code change", func(dir string, i int) error {
			return os.WriteFile(filepath.Join(dir, "app/__main__.py"), fmt.Appendf(nil, "import cowsay\nprint(cowsay.get_output_string('cow', 'bench %d %d'))\n", i, time.Now().UnixNano()), 0o644)
		}, 3 * runs},
		{"one requirement added", func(dir string, i int) error {
			return os.WriteFile(filepath.Join(dir, "requirements.txt"), fmt.Appendf(nil, "cowsay==6.1\ntzdata==2026.6  # run %d\n", time.Now().UnixNano()), 0o644)
		}, 0},
		// Everything again: base images from the (loopback) registry, the builder's
		// toolchain from the stand-in's package mirror, the install, the runner.
		{"cold build (prune --all)", func(string, int) error {
			return bed.Client.Prune(ctx, nil, client.PruneAll)
		}, min(runs, 3)},
	}
	fmt.Println("Small app (cowsay), seconds per build: wall time of `buildctl build` through the Dockerfile frontend (the user's path), exporting nothing:")
	header, rule := fmt.Sprintf("| %-22s | %8s | %14s | %14s | %12s | %12s | %14s | %14s |", "scenario", "acai", "built-in", "syntax image", "acai/built-in", "acai/syntax", "uv from image", "image/syntax"), "|---|---|---|---|---|---|---|---|"
	if baseline != "" {
		header, rule = header+fmt.Sprintf(" %14s | %14s | %14s |", "acai at "+baseline, "at "+baseline+"/syntax", "acai/at "+baseline), rule+"---|---|---|"
	}
	fmt.Println(header)
	fmt.Println(rule)
	for _, sc := range scenarios {
		times := make([][]time.Duration, len(variants))
		n := runs
		if sc.runs > 0 {
			n = sc.runs
		}
		for i := 0; i < n; i++ {
			for j, v := range variants {
				if err := sc.change(v.dir, i); err != nil {
					return err
				}
				start := time.Now()
				if _, err := bed.BuildctlNoExport(ctx, v.o); err != nil {
					return fmt.Errorf("%s, %s: %w", sc.name, v.name, err)
				}
				times[j] = append(times[j], time.Since(start))
			}
		}
		m := make([]float64, len(variants))
		for j := range variants {
			m[j] = median(times[j])
		}
		row := fmt.Sprintf("| %-22s | %8.2f | %14.2f | %14.2f | %12.2f | %12.2f | %14.2f | %14.2f |", fmt.Sprintf("%s (%d runs)", sc.name, n), m[0], m[1], m[2], m[0]/m[1], m[0]/m[2], m[3], m[3]/m[2])
		if baseline != "" {
			row += fmt.Sprintf(" %14.2f | %14.2f | %14.2f |", m[4], m[4]/m[2], m[0]/m[4])
		}
		fmt.Println(row)
	}
	fmt.Println()
	// The cold scenario pruned the cache before each build: one build of each again, so
	// that the timeline's first runs are no-ops too.
	for name, o := range timed {
		if _, err := bed.BuildctlNoExport(ctx, o); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return noopTimeline(ctx, bed, timed)
}

// noopTimeline shows where a no-op rebuild's time goes, for acai and for the hand-written
// recipe through the Dockerfile frontend as a syntax image, from BuildKit's own progress
// timestamps (buildctl --progress=rawjson), as medians from buildctl's start: when the
// frontend image is ready (the Dockerfile frontend has read the # syntax line and
// resolved it); the frontend's first step of its own (its container started and it made
// its first request that BuildKit shows: a base image's metadata); the last step to
// start (the final graph's, once the frontend returned it: what acai resolves and reads
// before it lies between the two); the export's end.
func noopTimeline(ctx context.Context, bed *testbed.Bed, variants map[string]testbed.Build) error {
	names := slices.Sorted(maps.Keys(variants))
	marks := []string{"frontend image ready", "frontend's first step", "last step started", "export done", "buildctl exits"}
	times := map[string][][]time.Duration{}
	cpu := map[string][][2]time.Duration{} // each run's: the machine's, the build containers'
	for i := 0; i < runs; i++ {
		for _, name := range names {
			o := variants[name]
			o.Progress = "rawjson"
			machine0, containers0, cpuOK := cpuTime()
			start := time.Now()
			res, err := bed.BuildctlNoExport(ctx, o)
			wall := time.Since(start)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if machine1, containers1, ok := cpuTime(); cpuOK && ok {
				cpu[name] = append(cpu[name], [2]time.Duration{machine1 - machine0, containers1 - containers0})
			}
			m, err := timelineMarks(res.Log, start)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if times[name] == nil {
				times[name] = make([][]time.Duration, len(marks))
			}
			for j, d := range append(m, wall) {
				times[name][j] = append(times[name][j], d)
			}
		}
	}
	fmt.Printf("Where a no-op rebuild goes (BuildKit's progress timestamps, ms from buildctl's start, medians of %d; CPU: ms per build, all cores, in the machine and in its build containers (the frontend's)):\n", runs)
	row := func(label string, cell func(name string) float64) {
		fmt.Printf("| %-28s |", label)
		for _, name := range names {
			fmt.Printf(" %*.0f |", max(8, len(name)), cell(name))
		}
		fmt.Println()
	}
	fmt.Printf("| %-28s |", "mark")
	for _, name := range names {
		fmt.Printf(" %8s |", name)
	}
	fmt.Println()
	fmt.Println("|---|" + strings.Repeat("---|", len(names)))
	for j, mark := range marks {
		row(mark, func(name string) float64 { return 1000 * median(times[name][j]) })
	}
	row("frontend start to first step", func(name string) float64 { return 1000 * medianDiff(times[name][1], times[name][0]) })
	row("first step to last step", func(name string) float64 { return 1000 * medianDiff(times[name][2], times[name][1]) })
	if len(cpu[names[0]]) == runs {
		cpuMedian := func(name string, k int) float64 {
			var ds []time.Duration
			for _, c := range cpu[name] {
				ds = append(ds, c[k])
			}
			return 1000 * median(ds)
		}
		row("CPU, whole machine", func(name string) float64 { return cpuMedian(name, 0) })
		row("CPU, build containers", func(name string) float64 { return cpuMedian(name, 1) })
	}
	fmt.Println()
	// One more no-op of each, step by step: what lies between the frontend's start and its
	// final graph.
	for _, name := range names {
		o := variants[name]
		o.Progress = "rawjson"
		start := time.Now()
		res, err := bed.BuildctlNoExport(ctx, o)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Printf("One no-op rebuild, %s, step by step (ms from buildctl's start; started, completed):\n", name)
		for _, v := range progressVertices(res.Log) {
			if v.started.IsZero() {
				continue
			}
			fmt.Printf("  %6.0f %6.0f  %s%s\n", ms(v.started.Sub(start)), ms(v.done.Sub(start)), v.name, map[bool]string{true: " (CACHED)"}[v.cached])
		}
		fmt.Println()
	}
	return nil
}

// cpuTime is the CPU time (user and system, all cores) the machine has spent, and its
// build containers (the frontends' among them), from the cgroup CPU accounting BuildKit's
// containers run under (v1 cpuacct or v2 cpu.stat; ok is false without either): what a
// build costs in work, which drifts less from run to run than its wall time.
func cpuTime() (machine, containers time.Duration, ok bool) {
	read := func(dir string) (time.Duration, bool) {
		if dt, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/cpuacct", dir, "cpuacct.usage")); err == nil {
			ns, err := strconv.ParseInt(strings.TrimSpace(string(dt)), 10, 64)
			return time.Duration(ns), err == nil
		}
		if dt, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", dir, "cpu.stat")); err == nil {
			for _, line := range strings.Split(string(dt), "\n") {
				if v, found := strings.CutPrefix(line, "usage_usec "); found {
					us, err := strconv.ParseInt(v, 10, 64)
					return time.Duration(us) * time.Microsecond, err == nil
				}
			}
		}
		return 0, false
	}
	machine, ok1 := read(".")
	containers, ok2 := read("buildkit")
	return machine, containers, ok1 && ok2
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// vertex is one step of buildctl's rawjson progress: its earliest start and latest
// completion over the progress messages that name it.
type vertex struct {
	name          string
	started, done time.Time
	cached        bool
}

// progressVertices reads buildctl's rawjson progress: the steps in the order they first
// appear.
func progressVertices(progress string) []*vertex {
	byDigest := map[string]*vertex{}
	var order []*vertex
	dec := json.NewDecoder(strings.NewReader(progress))
	for dec.More() {
		var st client.SolveStatus
		if err := dec.Decode(&st); err != nil {
			break // buildctl's last lines are not progress
		}
		for _, v := range st.Vertexes {
			x := byDigest[v.Digest.String()]
			if x == nil {
				x = &vertex{name: v.Name}
				byDigest[v.Digest.String()] = x
				order = append(order, x)
			}
			if v.Started != nil && (x.started.IsZero() || v.Started.Before(x.started)) {
				x.started = *v.Started
			}
			if v.Completed != nil && v.Completed.After(x.done) {
				x.done = *v.Completed
			}
			x.cached = x.cached || v.Cached
		}
	}
	slices.SortStableFunc(order, func(a, b *vertex) int { return a.started.Compare(b.started) })
	return order
}

// timelineMarks reads buildctl's rawjson progress: the durations from start to the
// frontend image's readiness, the next step to start, the last step to start (cached or
// not) before the export, and the export's end.
func timelineMarks(progress string, start time.Time) ([]time.Duration, error) {
	order := progressVertices(progress)
	var ready, first, final, export time.Time
	for _, v := range order {
		switch {
		case strings.HasPrefix(v.name, "docker-image://"):
			ready = v.done
		case v.name == "exporting to image":
			export = v.done
		}
	}
	for _, v := range order {
		if v.name == "exporting to image" || v.started.IsZero() {
			continue
		}
		if v.started.After(ready) && (first.IsZero() || v.started.Before(first)) {
			first = v.started
		}
		if v.started.After(final) {
			final = v.started
		}
	}
	if ready.IsZero() || first.IsZero() || export.IsZero() {
		return nil, fmt.Errorf("no frontend image, first step or export in the progress:\n%s", progress)
	}
	return []time.Duration{ready.Sub(start), first.Sub(start), final.Sub(start), export.Sub(start)}, nil
}

// medianDiff is the median of the per-run differences b[i] - a[i], in seconds.
func medianDiff(b, a []time.Duration) float64 {
	d := make([]time.Duration, len(a))
	for i := range a {
		d[i] = b[i] - a[i]
	}
	return median(d)
}

// installers times the install step alone (BuildKit's start-to-completion of the
// vertex) of the same real set, the Lambda example's (numpy, pandas, pyarrow, ...), by
// pip and by uv: cold (their cache mounts pruned first) and warm.
func installers(ctx context.Context, bed *testbed.Bed) error {
	reqs, err := os.ReadFile(filepath.Join(bed.Repo, "examples/lambda/requirements.txt"))
	if err != nil {
		return err
	}
	fmt.Println("Installing examples/lambda/requirements.txt (numpy, pandas, pyarrow, ...) into /opt/venv, seconds of the install step:")
	fmt.Printf("| %-28s | %8s | %8s | %8s |\n", "cache", "pip", "uv", "uv/pip")
	fmt.Println("|---|---|---|---|")
	for _, cold := range []bool{true, false} {
		times := map[string][]time.Duration{}
		for i := 0; i < runs; i++ {
			for _, inst := range []string{spec.InstallerPip, spec.InstallerUV} {
				if cold {
					if err := bed.Client.Prune(ctx, nil, client.WithFilter([]string{"type==exec.cachemount"})); err != nil {
						return err
					}
				}
				d, err := installTime(ctx, bed, inst, string(reqs))
				if err != nil {
					return fmt.Errorf("%s: %w", inst, err)
				}
				times[inst] = append(times[inst], d)
			}
		}
		name := "warm (download cache filled)"
		if cold {
			name = "cold (cache mounts pruned)"
		}
		p, u := median(times[spec.InstallerPip]), median(times[spec.InstallerUV])
		fmt.Printf("| %-28s | %8.2f | %8.2f | %8.2f |\n", name, p, u, u/p)
	}
	return nil
}

// installTime builds the requirements with one installer and returns the duration of
// its install step, which a new comment in the requirements keeps out of BuildKit's cache.
func installTime(ctx context.Context, bed *testbed.Bed, installer, reqs string) (time.Duration, error) {
	o, err := freshBuild(bed, []byte(reqs), map[string]string{
		"Acaifile": "python = \"3.12\"\nrequirements = \"requirements.txt\"\n[build]\ninstaller = \"" + installer + "\"\n",
	})
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(o.Dir)
	res, err := bed.BuildInProcess(ctx, o)
	if err != nil {
		return 0, err
	}
	name := "[deps] pip install -r requirements.txt"
	if installer == spec.InstallerUV {
		name = "[deps] uv pip install -r requirements.txt"
	}
	step, ok := res.Step(name)
	if !ok || step.Cached {
		return 0, fmt.Errorf("no install step ran:\n%s", res.Log)
	}
	return step.Duration, nil
}

// freshBuild writes a temporary project whose requirements.txt is reqs with a comment
// no earlier build had, so that its install runs again, beside files, and is its build
// on the stand-ins (Bed.StandinBuild). The
// caller removes o.Dir.
func freshBuild(bed *testbed.Bed, reqs []byte, files map[string]string) (o testbed.Build, err error) {
	dir, err := os.MkdirTemp("", "acai-bench-")
	if err != nil {
		return o, err
	}
	files = maps.Clone(files)
	files["requirements.txt"] = fmt.Sprintf("%s# run %d\n", reqs, time.Now().UnixNano())
	if err := testbed.WriteFiles(dir, files); err != nil {
		return o, err
	}
	return bed.StandinBuild(dir, ""), nil
}

func median(ds []time.Duration) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2].Seconds()
}

func numCPU() int {
	out, err := exec.Command("nproc").Output()
	n, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		return 0
	}
	return n
}

const dockerfileFrontendBinary = "dockerfile-frontend-stripped"

// pushDockerfileFrontend builds BuildKit's Dockerfile frontend from the pinned module
// (integration/tools) and pushes it as a syntax image, as docker/dockerfile:1 is one.
func pushDockerfileFrontend(ctx context.Context, bed *testbed.Bed) (string, error) {
	bin := filepath.Join(bed.Cache, "bin", dockerfileFrontendBinary)
	if _, err := os.Stat(bin); err != nil {
		// Built as acai's frontend is (stripped), so that their sizes compare.
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "github.com/moby/buildkit/frontend/dockerfile/cmd/dockerfile-frontend")
		cmd.Dir = filepath.Join(bed.Repo, "integration/tools")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("building the Dockerfile frontend: %v\n%s", err, out)
		}
	}
	dt, err := os.ReadFile(bin)
	if err != nil {
		return "", err
	}
	layer, err := testbed.ExecutableLayer(map[string][]byte{"bin/dockerfile-frontend": dt})
	if err != nil {
		return "", err
	}
	_, ref, err := bed.PushImage(ctx, empty.Image, layer, "bench/dockerfile:local", func(cfg *v1.ConfigFile) {
		cfg.OS, cfg.Architecture = "linux", "amd64"
		cfg.Config.Entrypoint = []string{"/bin/dockerfile-frontend"}
		cfg.Config.Labels = map[string]string{
			"moby.buildkit.frontend.network.none": "true",
			"moby.buildkit.frontend.caps":         "moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts",
		}
	})
	return ref, err
}
