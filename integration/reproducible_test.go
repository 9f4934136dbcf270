package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// Same inputs, same image, with compiled packages: each app below, built on two fresh
// buildkitd roots (nothing cached, the installers' caches empty) with SOURCE_DATE_EPOCH
// and rewrite-timestamp=true, gives one image digest. The apps: real sdists compiled in
// the builder, PyYAML's against libyaml and awslambdaric's (its bundled aws-lambda-cpp
// and curl, with cmake and autotools); a uv.lock project (the project itself built by
// uv, from its sources). The compiles' random build directories reach no byte of the
// image: acai compiles with no debug information (CFLAGS=-g0; without it the PyYAML
// images differ) and through compilers that map those directories to fixed names
// (without them awslambdaric's __FILE__ strings differ). Nor does uv's uv_cache.json, a
// build time in the project's dist-info, which acai drops.
func TestCompiledPackagesAreReproducible(t *testing.T) {
	t.Parallel()
	compiled := project(t, bed.WithSyntax("requirements = \"requirements.txt\"\n"),
		map[string]string{"requirements.txt": pyyamlFromSource + "awslambdaric==3.1.1\nsimplejson==4.3.0\nsnapshot-restore-py==1.0.0\n", "app.py": "print('app')\n"})
	// One install that compiles in itself (one layer): what a build falls back to.
	inInstall := project(t, bed.WithSyntax("requirements = \"requirements.txt\"\n[runtime]\nlayers = \"single\"\n"),
		map[string]string{"requirements.txt": pyyamlFromSource, "app.py": "print('app')\n"})
	uvlock := uvProject(t, bed.WithSyntax("lock = \"uv.lock\"\nentrypoint = [\"greet\"]\n"))
	apps := []struct{ name, dir, step string }{
		{"PyYAML and awslambdaric from source", compiled, "[deps] awslambdaric 3.1.1 (its wheel, compiled from source)"},
		{"PyYAML compiled in the install", inInstall, "[deps] uv pip install -r requirements.txt (builds from source: "},
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
			if i == 0 && app.dir == compiled {
				buildPathsMapped(t, layout)
			}
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

// buildPathsMapped checks the compiled awslambdaric extension of the image in layout:
// the paths of its sources are the wrapper's fixed ones, not uv's random build directory.
func buildPathsMapped(t *testing.T, layout string) {
	t.Helper()
	img, err := bed.OpenLayout(layout)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Remove()
	sos, _ := filepath.Glob(filepath.Join(img.Rootfs(), "opt/venv/lib/python3*/site-packages/runtime_client*.so"))
	if len(sos) != 1 {
		t.Fatalf("awslambdaric's runtime_client extension: found %v", sos)
	}
	dt, err := os.ReadFile(sos[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(dt, []byte("/acai/build/src/deps/aws-lambda-cpp-")) || bytes.Contains(dt, []byte("sdists-v")) {
		t.Errorf("%s keeps the build directory's name: %q", sos[0], regexp.MustCompile(`/[^\x00]*aws-lambda-cpp-[^\x00]*`).FindAll(dt, 3))
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
