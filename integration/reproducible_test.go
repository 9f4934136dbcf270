package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Same inputs, same image, with compiled packages: each app below, built on two fresh
// buildkitd roots (nothing cached, the installers' caches empty) with SOURCE_DATE_EPOCH
// and rewrite-timestamp=true, gives one image digest. The apps: PyYAML's real sdist
// compiled against libyaml; a uv.lock project (the project itself built by uv, from its
// sources). The compile's random build directory reaches no byte of the image: acai
// compiles with no debug information (CFLAGS=-g0); without it the PyYAML images differ.
// Nor does uv's uv_cache.json, a build time in the project's dist-info, which acai drops.
// (awslambdaric 3.1.1's images still differ between two such builds: not covered yet.)
func TestCompiledPackagesAreReproducible(t *testing.T) {
	yaml := project(t, bed.WithSyntax("requirements = \"requirements.txt\"\n"),
		map[string]string{"requirements.txt": pyyamlFromSource, "app.py": "print('app')\n"})
	uvlock := uvProject(t, bed.WithSyntax("lock = \"uv.lock\"\nentrypoint = [\"greet\"]\n"))
	apps := []struct{ name, dir, step string }{
		{"PyYAML from source", yaml, "[deps] uv pip install -r requirements.txt (builds from source: pyyaml 6.0.3)"},
		{"uv.lock project", uvlock, "[deps] uv pip install --no-deps . (the project, non-editable)"},
	}
	digests := make([][]string, len(apps))
	manifests := make([][]string, len(apps))
	for i := range 2 {
		d, err := bed.StartDaemon(testContext(t), filepath.Join(t.TempDir(), "buildkitd"), fmt.Sprintf("fresh-buildkitd-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		for j, app := range apps {
			o := standinBuild(t, app.dir)
			o.Addr = d.Socket
			o.Args["SOURCE_DATE_EPOCH"] = "1700000000"
			o.Output = "rewrite-timestamp=true"
			res, layout, err := bed.BuildctlToOCI(testContext(t), o)
			if err != nil {
				d.Stop()
				t.Fatalf("%s: %v", app.name, err)
			}
			wantContains(t, app.name+" progress", res.Log, app.step)
			digest, manifest := imageDigest(t, layout)
			digests[j], manifests[j] = append(digests[j], digest), append(manifests[j], manifest)
		}
		d.Stop()
	}
	for j, app := range apps {
		t.Logf("%s: image digests %s, %s", app.name, digests[j][0], digests[j][1])
		if digests[j][0] != digests[j][1] {
			t.Errorf("%s: two clean builds gave two images:\n%s\n%s", app.name, manifests[j][0], manifests[j][1])
		}
	}
}

// imageDigest is the digest of the one image of an unpacked OCI layout, and its manifest.
func imageDigest(t *testing.T, layout string) (string, string) {
	t.Helper()
	var index struct {
		Manifests []struct{ Digest string }
	}
	dt, err := os.ReadFile(filepath.Join(layout, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(dt, &index); err != nil || len(index.Manifests) != 1 {
		t.Fatalf("index.json: %v: %s", err, dt)
	}
	d := index.Manifests[0].Digest
	manifest, err := os.ReadFile(filepath.Join(layout, "blobs", "sha256", d[len("sha256:"):]))
	if err != nil {
		t.Fatal(err)
	}
	return d, string(manifest)
}
