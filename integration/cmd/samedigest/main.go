// Command samedigest checks a change that should not change images (a refactor of the
// frontend): it builds the examples with acai from the working tree and with acai from a
// commit, each through its `# syntax=` line on the test bed, with SOURCE_DATE_EPOCH and
// rewrite-timestamp=true, and prints the image digests side by side. Run it with
// `bash hack/samedigest REV`; it exits 1 when a digest differs.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/acai-build/acai/integration/testbed"
)

// examples are those whose images are compared: the smallest app and the data-science set.
var examples = []string{"hello", "lambda"}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: samedigest REV")
		os.Exit(2)
	}
	same, err := run(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "samedigest:", err)
		os.Exit(2)
	}
	if !same {
		os.Exit(1)
	}
}

func run(rev string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	bed, err := testbed.Start(ctx)
	if err != nil {
		return false, err
	}
	defer bed.Close()
	before, err := bed.FrontendImageAt(ctx, rev)
	if err != nil {
		return false, err
	}
	same := true
	fmt.Printf("| example | acai at %s | acai (working tree) | same |\n|---|---|---|---|\n", rev)
	for _, example := range examples {
		var digests []string
		for _, frontend := range []string{before, bed.Frontend} {
			d, err := digest(ctx, bed, example, frontend)
			if err != nil {
				return false, fmt.Errorf("%s with %s: %w", example, frontend, err)
			}
			digests = append(digests, d)
		}
		same = same && digests[0] == digests[1]
		fmt.Printf("| %s | %s | %s | %v |\n", example, digests[0], digests[1], digests[0] == digests[1])
	}
	return same, nil
}

// digest builds an example with the frontend image frontend and returns its image digest.
func digest(ctx context.Context, bed *testbed.Bed, example, frontend string) (string, error) {
	dir, err := os.MkdirTemp("", "acai-samedigest-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	if err := testbed.CopyDir(filepath.Join(bed.Repo, "examples", example), dir); err != nil {
		return "", err
	}
	acaifile, err := os.ReadFile(filepath.Join(dir, "Acaifile"))
	if err != nil {
		return "", err
	}
	o := bed.StandinBuild(dir, "Acaifile")
	// The example's `# syntax=` line, naming this frontend image.
	withSyntax := strings.Replace(bed.WithSyntax(string(acaifile)), "# syntax="+bed.Frontend, "# syntax="+frontend, 1)
	if err := os.WriteFile(filepath.Join(dir, "Acaifile"), []byte(withSyntax), 0o644); err != nil {
		return "", err
	}
	o.Args["SOURCE_DATE_EPOCH"] = "1700000000"
	o.Output = "rewrite-timestamp=true"
	res, layout, err := bed.BuildctlToOCI(ctx, o)
	if err != nil {
		if res != nil {
			fmt.Fprint(os.Stderr, res.Log)
		}
		return "", err
	}
	var index struct{ Manifests []struct{ Digest string } }
	dt, err := os.ReadFile(filepath.Join(layout, "index.json"))
	if err != nil {
		return "", err
	}
	if err := json.Unmarshal(dt, &index); err != nil || len(index.Manifests) != 1 {
		return "", fmt.Errorf("index.json of %s: %v", layout, err)
	}
	return index.Manifests[0].Digest, nil
}
