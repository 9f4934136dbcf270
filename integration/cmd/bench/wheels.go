package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/acai-build/acai/integration/testbed"
	"github.com/moby/buildkit/client"
)

// sharedWheels times what an organisation's shared cache of compiled wheels saves: project A
// (a Lambda function on awslambdaric 3.1.1, which has no musllinux wheel and compiles for
// minutes) is built once with a registry cache export; project B (other requirements,
// another handler, the same awslambdaric) is then built cold (all build cache pruned) without
// and with that cache imported. Medians; the compile's share is its wheel step's time in B's
// build without the cache.
func sharedWheels(ctx context.Context, bed *testbed.Bed) error {
	const acaifile = "python = \"3.12\"\nrequirements = \"requirements.txt\"\nentrypoint = [\"python\", \"-m\", \"awslambdaric\"]\ncmd = [\"app.handler\"]\n[runtime]\nlayout = \"lambda\"\n"
	const step = "[wheels] awslambdaric 3.1.1 from its source distribution (pip wheel)"
	write := func(reqs, handler string) (testbed.Build, error) {
		dir, err := os.MkdirTemp("", "acai-bench-")
		if err != nil {
			return testbed.Build{}, err
		}
		files := map[string]string{"Acaifile": bed.WithSyntax(acaifile), "requirements.txt": reqs, "app.py": handler}
		if err := testbed.WriteFiles(dir, files); err != nil {
			return testbed.Build{Dir: dir}, err
		}
		return bed.StandinBuild(dir, ""), nil
	}
	a, err := write("awslambdaric==3.1.1\nsimplejson==4.3.0\nsnapshot-restore-py==1.0.0\n", "def handler(event, context):\n    return {'a': event['n']}\n")
	defer os.RemoveAll(a.Dir)
	if err != nil {
		return err
	}
	b, err := write("awslambdaric==3.1.1\nsimplejson==4.3.0\nsnapshot-restore-py==1.0.0\ncowsay==6.1\n", "import cowsay\n\ndef handler(event, context):\n    return {'b': event['n'] + 1}\n")
	defer os.RemoveAll(b.Dir)
	if err != nil {
		return err
	}
	ref := fmt.Sprintf("%s/acai-bench/wheels:%d", bed.Registry, time.Now().UnixNano())
	if err := bed.Client.Prune(ctx, nil, client.PruneAll); err != nil {
		return err
	}
	if _, _, err := bed.BuildctlToOCI(ctx, a, "--export-cache", "type=registry,ref="+ref+",mode=max,registry.insecure=true"); err != nil {
		return fmt.Errorf("project A: %w", err)
	}
	var without, with, compile []time.Duration
	for i := 0; i < runs; i++ {
		for _, imported := range []bool{false, true} {
			if err := bed.Client.Prune(ctx, nil, client.PruneAll); err != nil {
				return err
			}
			var flags []string
			if imported {
				flags = []string{"--import-cache", "type=registry,ref=" + ref + ",registry.insecure=true"}
			}
			start := time.Now()
			res, _, err := bed.BuildctlToOCI(ctx, b, flags...)
			if err != nil {
				return fmt.Errorf("project B (cache imported: %v): %w", imported, err)
			}
			took := time.Since(start)
			if imported {
				with = append(with, took)
				continue
			}
			without = append(without, took)
			s, ok := res.Step(step)
			if !ok || s.Cached {
				return fmt.Errorf("project B without the cache did not compile awslambdaric:\n%s", res.Log)
			}
			compile = append(compile, s.Duration)
		}
	}
	fmt.Printf("Compiled wheels shared through a registry cache: project B (a Lambda function on awslambdaric 3.1.1, which compiles) built cold (all build cache pruned, `buildctl build` to an OCI layout), without and with project A's registry cache imported; seconds, medians of %d:\n", runs)
	fmt.Printf("| %-34s | %10s | %18s |\n|---|---|---|\n", "project B, cold", "seconds", "awslambdaric's compile")
	fmt.Printf("| %-34s | %10.2f | %18.2f |\n", "without a shared cache", median(without), median(compile))
	fmt.Printf("| %-34s | %10.2f | %18s |\n", "with project A's cache imported", median(with), "CACHED")
	fmt.Printf("| %-34s | %10.2f | %18s |\n\n", "with / without", median(with)/median(without), "")
	return nil
}
