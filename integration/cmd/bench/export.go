package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"time"

	"github.com/acai-build/acai/integration/testbed"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/buildkit/client"
)

// exportSettings compares the image exporter's compression settings on examples/lambda's
// set, as a CI job builds and pushes it: a cold build pushed to the loopback registry
// (all build cache pruned: the layers are compressed in the build), the image's
// compressed bytes, and a pull of it (every layer downloaded and decompressed, as a node
// does before it unpacks; go-containerregistry's client, the unpacking left out). acai
// does not choose the exporter: these are the options users pass (--output / buildx
// --output type=image,...).
func exportSettings(ctx context.Context, bed *testbed.Bed) error {
	reqs, _, err := lambdaSet(bed)
	if err != nil {
		return err
	}
	variants := []struct{ name, opts string }{
		{"gzip (the default)", ""},
		{"zstd, oci-mediatypes=true", "compression=zstd,oci-mediatypes=true,force-compression=true"},
		{"zstd level 9", "compression=zstd,compression-level=9,oci-mediatypes=true,force-compression=true"},
		{"uncompressed", "compression=uncompressed,force-compression=true"},
	}
	fmt.Printf("examples/lambda's set built by acai and pushed, by the image exporter's compression: a cold build with its push to the loopback registry (all build cache pruned), the image's bytes as pushed, and a pull (every layer downloaded and decompressed; medians of %d):\n", runs)
	fmt.Printf("| %-28s | %16s | %12s | %10s |\n|---|---|---|---|\n", "exporter options", "build + push s", "image MB", "pull s")
	for _, v := range variants {
		var pushes, pulls []time.Duration
		var size int64
		for i := 0; i < runs; i++ {
			files := maps.Clone(lambdaSetApp)
			files["Acaifile"] = bed.WithSyntax(lambdaSetAcaifile)
			files["requirements.txt"] = string(reqs)
			dir, err := os.MkdirTemp("", "acai-bench-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			if err := testbed.WriteFiles(dir, files); err != nil {
				return err
			}
			o := bed.StandinBuild(dir, "")
			if err := bed.Client.Prune(ctx, nil, client.PruneAll); err != nil {
				return err
			}
			// A repository of its own each run: the registry has none of its blobs.
			ref := fmt.Sprintf("%s/acai-bench/export-%d-%d:latest", bed.Registry, time.Now().UnixNano(), i)
			start := time.Now()
			if _, err := bed.BuildctlPush(ctx, o, ref, v.opts); err != nil {
				return fmt.Errorf("%s: %w", v.name, err)
			}
			pushes = append(pushes, time.Since(start))
			took, bytes, err := pullImage(ctx, ref)
			if err != nil {
				return fmt.Errorf("%s: pull: %w", v.name, err)
			}
			pulls, size = append(pulls, took), bytes
		}
		fmt.Printf("| %-28s | %16.2f | %12.1f | %10.2f |\n", v.name, median(pushes), float64(size)/1e6, median(pulls))
	}
	fmt.Println()
	return nil
}

// pullImage downloads ref's layers from the loopback registry and decompresses each (the
// content read to its end): the time, and the compressed bytes of its layers.
func pullImage(ctx context.Context, ref string) (time.Duration, int64, error) {
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	img, err := remote.Image(r, remote.WithContext(ctx))
	if err != nil {
		return 0, 0, err
	}
	layers, err := img.Layers()
	if err != nil {
		return 0, 0, err
	}
	var total int64
	for _, l := range layers {
		size, err := l.Size()
		if err != nil {
			return 0, 0, err
		}
		total += size
		rc, err := l.Uncompressed()
		if err != nil {
			return 0, 0, err
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return 0, 0, err
		}
	}
	return time.Since(start), total, nil
}
