package integration

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/acai-build/acai/integration/testbed"
)

// wheelStep is the progress name of PyYAML's wheel stage.
const wheelStep = "[wheels] pyyaml 6.0.3 from its source distribution (pip wheel)"

// A package that compiles is compiled once for every project and machine (README,
// "Compiled once"): PyYAML from its sdist is a wheel stage of its own, keyed by the
// sdist and the build settings alone. Project A builds it; A with an unrelated
// requirement added finds it CACHED; project B (other requirements, another app) on a
// fresh daemon that imports A's registry cache finds it CACHED too, and its image loads
// the compiled extension. (The issue names awslambdaric 3.1.1, which compiles for
// minutes here; PyYAML's sdist goes through the same stage in seconds.)
func TestCompiledWheelIsBuiltOnceForEveryProject(t *testing.T) {
	t.Parallel()
	// A user agent no other test sends: read by pip, it is in the wheel step's key, so
	// A's first build compiles, whatever earlier tests left in the daemon's cache.
	agent := map[string]string{"PIP_USER_AGENT_USER_DATA": fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano())}
	const entry = "entrypoint = [\"python\", \"-c\", \"import yaml, yaml._yaml; print('libyaml', yaml._yaml.get_version_string(), yaml.__with_libyaml__)\"]\n"
	a := project(t, bed.WithSyntax("requirements = \"requirements.txt\"\n"+entry), map[string]string{"requirements.txt": pyyamlFromSource + "cowsay==6.1\n"})
	ref := bed.Registry + "/acai-test/cache:compiled-wheels"
	oa := withArgs(standinBuild(t, a), agent)
	first, _, err := bed.BuildctlToOCI(testContext(t), oa, "--export-cache", "type=registry,ref="+ref+",mode=max,registry.insecure=true")
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := first.Step(wheelStep); !ok || s.Cached {
		t.Fatalf("project A did not compile PyYAML in its wheel stage (found: %v):\n%s", ok, first.Log)
	}
	// PyYAML's layer installs that wheel: it compiles nothing itself.
	wantContains(t, "A's progress", first.Log, "[deps] pyyaml 6.0.3 (its wheel, compiled from source)")

	setFile(t, a, "requirements.txt", pyyamlFromSource+"cowsay==6.1\nsimplejson==4.3.0\n")
	again, _, err := bed.BuildctlToOCI(testContext(t), oa)
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := again.Step(wheelStep); !ok || !s.Cached {
		t.Errorf("an unrelated requirement added to A compiled PyYAML again:\n%s", again.Log)
	}

	second, err := bed.StartDaemon(testContext(t), filepath.Join(t.TempDir(), "buildkitd"), "wheels-buildkitd")
	if err != nil {
		t.Fatal(err)
	}
	defer second.Stop()
	b := project(t, bed.WithSyntax("requirements = \"deps.txt\"\n"+entry), map[string]string{"deps.txt": pyyamlFromSource + "packaging==26.3\n", "other.py": "print('B')\n"})
	ob := withArgs(standinBuild(t, b), agent)
	ob.Addr = second.Socket
	res, layout, err := bed.BuildctlToOCI(testContext(t), ob, "--import-cache", "type=registry,ref="+ref+",registry.insecure=true")
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := res.Step(wheelStep); !ok || !s.Cached {
		t.Errorf("project B on a fresh daemon compiled PyYAML although A's cache had its wheel:\n%s", res.Log)
	}
	img, err := bed.OpenLayout(layout)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Remove()
	wantContains(t, "B's output", run(t, img), "libyaml 0.2.5 True")
	// Installed from its wheel file, it reads as installed from the index, as it was.
	site := "/opt/venv/lib/python3*/site-packages/"
	info := site + "?y?aml-6.0.3.dist-info/"
	if !img.Exists(info+"RECORD") || img.Exists(info+"direct_url.json") || img.Exists(info+"uv_cache.json") {
		t.Errorf("PyYAML's dist-info: RECORD %v, direct_url.json %v, uv_cache.json %v; want a RECORD alone",
			img.Exists(info+"RECORD"), img.Exists(info+"direct_url.json"), img.Exists(info+"uv_cache.json"))
	}
}

// --target wheels writes the compiled wheels (a wheelhouse a team can publish to its own
// index); the same sdist built on two fresh daemons gives the same wheel bytes.
func TestWheelsTargetIsReproducible(t *testing.T) {
	t.Parallel()
	dir := project(t, bed.WithSyntax("requirements = \"requirements.txt\"\n"), map[string]string{"requirements.txt": pyyamlFromSource})
	var sums []string
	for i := range 2 {
		d, err := bed.StartDaemon(testContext(t), filepath.Join(t.TempDir(), "buildkitd"), fmt.Sprintf("wheelhouse-buildkitd-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		o := standinBuild(t, dir)
		o.Addr, o.Target = d.Socket, "wheels"
		out := t.TempDir()
		res, err := bed.BuildctlToLocal(testContext(t), o, out)
		d.Stop()
		if err != nil {
			t.Fatal(err)
		}
		wantContains(t, "progress", res.Log, wheelStep)
		whl, _ := filepath.Glob(filepath.Join(out, "*"))
		if len(whl) != 1 || filepath.Ext(whl[0]) != ".whl" {
			t.Fatalf("--target wheels wrote %v, want PyYAML's wheel alone", whl)
		}
		dt, err := os.ReadFile(whl[0])
		if err != nil {
			t.Fatal(err)
		}
		sums = append(sums, fmt.Sprintf("%s %x", filepath.Base(whl[0]), sha256.Sum256(dt)))
	}
	t.Logf("wheels: %s; %s", sums[0], sums[1])
	if sums[0] != sums[1] {
		t.Errorf("two fresh daemons built two different wheels: %s, %s", sums[0], sums[1])
	}
}

func withArgs(o testbed.Build, args map[string]string) testbed.Build {
	for k, v := range args {
		o.Args[k] = v
	}
	return o
}
