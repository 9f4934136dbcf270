package integration

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acai-build/acai/integration/testbed"
)

// wheelStep is the progress name of PyYAML's wheel stage.
const wheelStep = "[wheels] pyyaml 6.0.3 from its source distribution (pip wheel)"

// A package that compiles is compiled once for every project (README, "Compiled once"):
// PyYAML from its sdist is a wheel stage of its own, keyed by the sdist and the build
// settings alone. Project A compiles it; A with an unrelated requirement added, and
// project B (other requirements, another app), find it CACHED; B's image loads the
// compiled extension, installed from that wheel as from the index.
func TestCompiledWheelIsBuiltOnceForEveryProject(t *testing.T) {
	t.Parallel()
	// A user agent no other test sends: read by pip, it is in the wheel step's key, so
	// A's first build compiles, whatever earlier tests left in the daemon's cache.
	agent := map[string]string{"PIP_USER_AGENT_USER_DATA": fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano())}
	const entry = "entrypoint = [\"python\", \"-c\", \"import yaml, yaml._yaml; print('libyaml', yaml._yaml.get_version_string(), yaml.__with_libyaml__)\"]\n"
	a := project(t, bed.WithSyntax("requirements = \"requirements.txt\"\n"+entry), map[string]string{"requirements.txt": pyyamlFromSource + "cowsay==6.1\n"})
	first, _, err := bed.BuildctlToOCI(testContext(t), withArgs(standinBuild(t, a), agent))
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := first.Step(wheelStep); !ok || s.Cached {
		t.Fatalf("project A did not compile PyYAML in its wheel stage (found: %v):\n%s", ok, first.Log)
	}
	// PyYAML's layer installs that wheel: it compiles nothing itself.
	wantContains(t, "A's progress", first.Log, "[deps] pyyaml 6.0.3 (its wheel, compiled from source)")

	setFile(t, a, "requirements.txt", pyyamlFromSource+"cowsay==6.1\nsimplejson==4.3.0\n")
	again, _, err := bed.BuildctlToOCI(testContext(t), withArgs(standinBuild(t, a), agent))
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := again.Step(wheelStep); !ok || !s.Cached {
		t.Errorf("an unrelated requirement added to A compiled PyYAML again:\n%s", again.Log)
	}

	b := project(t, bed.WithSyntax("requirements = \"deps.txt\"\n"+entry), map[string]string{"deps.txt": pyyamlFromSource + "packaging==26.3\n", "other.py": "print('B')\n"})
	res, layout, err := bed.BuildctlToOCI(testContext(t), withArgs(standinBuild(t, b), agent))
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := res.Step(wheelStep); !ok || !s.Cached {
		t.Errorf("project B compiled PyYAML although A had built its wheel:\n%s", res.Log)
	}
	img, err := bed.OpenLayout(layout)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Remove()
	wantContains(t, "B's output", run(t, img), "libyaml 0.2.5 True")
	// Installed from its wheel file, it reads as installed from the index, as it was.
	info := "/opt/venv/lib/python3*/site-packages/?y?aml-6.0.3.dist-info/"
	if !img.Exists(info+"RECORD") || img.Exists(info+"direct_url.json") || img.Exists(info+"uv_cache.json") {
		t.Errorf("PyYAML's dist-info: RECORD %v, direct_url.json %v, uv_cache.json %v; want a RECORD alone",
			img.Exists(info+"RECORD"), img.Exists(info+"direct_url.json"), img.Exists(info+"uv_cache.json"))
	}
}

// The case: awslambdaric 3.1.1, which compiles for minutes, is compiled once for
// every machine of an organisation. Project A (a Lambda function on it) is built with a
// registry cache export; project B (other requirements, another handler) on a fresh
// buildkitd that imports A's cache gets the compile CACHED, and B's handler answers.
// (A's compile itself may be shared with TestLambdaOnAnAWSLambdaRICThatCompiles, which
// builds the same wheel stage on the same daemon.)
func TestCompiledWheelTravelsInTheRegistryCache(t *testing.T) {
	t.Parallel()
	const step = "[wheels] awslambdaric 3.1.1 from its source distribution (pip wheel)"
	lambda := func(reqs, handler string) string {
		return project(t, bed.WithSyntax("python = \"3.12\"\nrequirements = \"requirements.txt\"\nentrypoint = [\"python\", \"-m\", \"awslambdaric\"]\ncmd = [\"app.handler\"]\n[runtime]\nlayout = \"lambda\"\n"),
			map[string]string{"requirements.txt": reqs, "app.py": handler})
	}
	a := lambda("awslambdaric==3.1.1\nsimplejson==4.3.0\nsnapshot-restore-py==1.0.0\n", "def handler(event, context):\n    return {'a': event['n']}\n")
	ref := bed.Registry + "/acai-test/cache:awslambdaric-wheel"
	first, _, err := bed.BuildctlToOCI(testContext(t), standinBuild(t, a), "--export-cache", "type=registry,ref="+ref+",mode=max,registry.insecure=true")
	if err != nil {
		t.Fatal(err)
	}
	wantContains(t, "A's progress", first.Log, step, "[deps] awslambdaric 3.1.1 (its wheel, compiled from source)")

	second, err := bed.StartDaemon(testContext(t), filepath.Join(t.TempDir(), "buildkitd"), "wheel-cache-buildkitd")
	if err != nil {
		t.Fatal(err)
	}
	defer second.Stop()
	b := lambda("awslambdaric==3.1.1\nsimplejson==4.3.0\nsnapshot-restore-py==1.0.0\ncowsay==6.1\n", "import cowsay\n\ndef handler(event, context):\n    return {'b': event['n'] + 1}\n")
	ob := standinBuild(t, b)
	ob.Addr = second.Socket
	res, layout, err := bed.BuildctlToOCI(testContext(t), ob, "--import-cache", "type=registry,ref="+ref+",registry.insecure=true")
	if err != nil {
		t.Fatal(err)
	}
	// Its result comes from the imported cache (buildctl shows the layer extracted, not
	// CACHED, as it does for what it pulls): pip never runs there.
	if _, ok := res.Step(step); !ok || strings.Contains(res.Log, "Building wheel for awslambdaric") {
		t.Errorf("project B compiled awslambdaric on a fresh daemon although A's cache had its wheel:\n%s", res.Log)
	}
	img, err := bed.OpenLayout(layout)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Remove()
	wantEqual(t, "B's handler", invokeLambda(t, &testbed.Result{Image: img}, map[string]int{"n": 41}), `{"b": 42}`)
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
