package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"time"

	"github.com/acai-build/acai/integration/testbed"
	"github.com/moby/buildkit/client"
)

// stepBreakdown is where a cold and a warm build of examples/lambda's set spend their
// time, acai and the hand-written recipe side by side: each build's vertices (BuildKit's
// progress timestamps) grouped by what they do, each group's wall time (the union of its
// vertices' intervals: parallel steps count once), medians of the runs. Cold: all build
// cache pruned. Warm: the same build again after pruning everything but the cache mounts
// (pip's and uv's download caches filled, every step re-run). The groups overlap in time
// (acai's package layers install while the runner base loads), so they do not add up to
// the whole build, which is the last row.
func stepBreakdown(ctx context.Context, bed *testbed.Bed) error {
	reqs, handwritten, err := lambdaSet(bed)
	if err != nil {
		return err
	}
	variants := []struct{ name, file, content string }{
		{"acai", "Acaifile", bed.WithSyntax(lambdaSetAcaifile)},
		{"hand-written", "Dockerfile", string(handwritten)},
	}
	type key struct{ variant, mode string }
	spans := map[key]map[string][]time.Duration{} // → group → runs
	whole := map[key][]time.Duration{}
	record := func(k key, took time.Duration, log string) {
		whole[k] = append(whole[k], took)
		if spans[k] == nil {
			spans[k] = map[string][]time.Duration{}
		}
		groups := groupSpans(progressVertices(log))
		for _, g := range stepGroups {
			spans[k][g.name] = append(spans[k][g.name], groups[g.name])
		}
	}
	for i := 0; i < runs; i++ {
		for _, v := range variants {
			o, _, took, log, err := coldLambdaBuild(ctx, bed, reqs, v.file, v.content, "rawjson")
			if err != nil {
				os.RemoveAll(o.Dir)
				return fmt.Errorf("%s: %w", v.name, err)
			}
			record(key{v.name, "cold"}, took, log)
			if i == 0 && os.Getenv("ACAI_BENCH_TIMELINE") != "" {
				printTimeline(v.name+", cold", log)
			}
			// Warm: every record but the cache mounts pruned, the same build again.
			if err := bed.Client.Prune(ctx, nil, client.WithFilter([]string{"type!=exec.cachemount"})); err != nil {
				os.RemoveAll(o.Dir)
				return err
			}
			start := time.Now()
			res, _, err := bed.BuildctlToOCI(ctx, o)
			os.RemoveAll(o.Dir)
			if err != nil {
				return fmt.Errorf("%s, warm: %w", v.name, err)
			}
			record(key{v.name, "warm"}, time.Since(start), res.Log)
		}
	}
	for _, mode := range []string{"cold", "warm"} {
		what := "all build cache pruned"
		if mode == "warm" {
			what = "everything but the cache mounts pruned: the download caches filled, every step re-run"
		}
		fmt.Printf("Where a %s build of examples/lambda's set goes (%s; `buildctl build` to an OCI layout; BuildKit's progress timestamps; seconds of wall time per group of steps, parallel steps counted once; medians of %d):\n", mode, what, runs)
		fmt.Printf("| %-58s | %8s | %12s |\n|---|---|---|\n", "group of steps", "acai", "hand-written")
		a, h := key{"acai", mode}, key{"hand-written", mode}
		for _, g := range stepGroups {
			as, hs := median(spans[a][g.name]), median(spans[h][g.name])
			if as == 0 && hs == 0 {
				continue
			}
			fmt.Printf("| %-58s | %8.2f | %12.2f |\n", g.name, as, hs)
		}
		fmt.Printf("| %-58s | %8.2f | %12.2f |\n", "the whole build (buildctl's start to its exit)", median(whole[a]), median(whole[h]))
		fmt.Printf("| %-58s | %8.2f | %12s |\n\n", "ratio acai / hand-written", median(whole[a])/median(whole[h]), "")
	}
	return nil
}

// stepGroups name what a vertex does, by its progress name: the first group whose
// pattern matches takes it. acai's names are its stages' ([resolve], [deps] numpy 2.4.6,
// [runner] ...); the recipe's are the Dockerfile frontend's ([acai 2/2] RUN apk add,
// [deps 4/4] RUN pip install, [stage-2 3/6] COPY --from=deps ...).
var stepGroups = []struct {
	name    string
	pattern *regexp.Regexp
}{
	{"the frontend image (acai's, or the Dockerfile frontend's)", regexp.MustCompile(`^docker-image://.*(acai/frontend|dockerfile)`)},
	{"base images (metadata and pull)", regexp.MustCompile(`(load metadata for|FROM |^\[context |^docker-image://)`)},
	{"build context and requirement files (transfer)", regexp.MustCompile(`(^\[internal\]|load build context|load requirement files|transferring)`)},
	{"resolution for the target ([resolve]; uv's wheel)", regexp.MustCompile(`^\[(resolve|uv)\]`)},
	{"toolchain (apk add in the builder)", regexp.MustCompile(`^\[(builder|acai)[^\]]*\] (apk add|RUN apk)`)},
	{"layers: diff and merge of the package layers", regexp.MustCompile(`^\[deps\] (layer:|merge )`)},
	{"dependency install ([deps] steps; the recipe's pip install)", regexp.MustCompile(`(^\[deps\] |RUN .*pip install|RUN .*uv pip)`)},
	{"shared-library scan ([scan]; the recipe's none)", regexp.MustCompile(`^\[scan\]`)},
	{"runner: apk add, user, copy of the dependencies, app", regexp.MustCompile(`^\[(runner|stage-[0-9]+)[ \]]`)},
	{"export (layers compressed, image written)", regexp.MustCompile(`^export|^exporting|^sending tarball|^writing`)},
	{"other", regexp.MustCompile(``)},
}

// groupSpans is each group's wall time: the union of its vertices' intervals.
func groupSpans(vs []*vertex) map[string]time.Duration {
	intervals := map[string][][2]time.Time{}
	for _, v := range vs {
		if v.started.IsZero() || v.done.IsZero() {
			continue
		}
		for _, g := range stepGroups {
			if g.pattern.MatchString(v.name) {
				intervals[g.name] = append(intervals[g.name], [2]time.Time{v.started, v.done})
				break
			}
		}
	}
	out := map[string]time.Duration{}
	for name, ivs := range intervals {
		slices.SortFunc(ivs, func(a, b [2]time.Time) int { return a[0].Compare(b[0]) })
		var end time.Time
		for _, iv := range ivs {
			switch {
			case iv[0].After(end):
				out[name] += iv[1].Sub(iv[0])
				end = iv[1]
			case iv[1].After(end):
				out[name] += iv[1].Sub(end)
				end = iv[1]
			}
		}
	}
	return out
}

// printTimeline prints a build's vertices (ACAI_BENCH_TIMELINE=1): when each started,
// from the first one's start, and how long it ran; what the groups above add up.
func printTimeline(what, log string) {
	vs := progressVertices(log)
	fmt.Printf("Timeline of %s (seconds from the first vertex's start, duration, name):\n", what)
	var first time.Time
	for _, v := range vs {
		if v.started.IsZero() || v.done.IsZero() {
			continue
		}
		if first.IsZero() {
			first = v.started
		}
		cached := ""
		if v.cached {
			cached = " CACHED"
		}
		fmt.Printf("%7.2f %6.2f %s%s\n", v.started.Sub(first).Seconds(), v.done.Sub(v.started).Seconds(), v.name, cached)
	}
	fmt.Println()
}
