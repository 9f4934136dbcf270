package integration

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// Cache that survives machines: a build on the test bed's buildkitd exports its cache to
// the registry (mode=max); a second, empty buildkitd (its own state, as on another CI
// machine) imports it, and the dependency install is CACHED there.
func TestRegistryCacheAcrossDaemons(t *testing.T) {
	t.Parallel()
	// Requirements no earlier run had, so the first build really installs.
	dir := project(t, bed.WithSyntax("# syntax=acai/frontend\nrequirements = \"requirements.txt\"\nentrypoint = [\"cowsay\", \"-t\", \"cached\"]\n"),
		map[string]string{"requirements.txt": fmt.Sprintf("cowsay==6.1\n# %d\n", time.Now().UnixNano())})
	ref := bed.Registry + "/acai-test/cache:across-daemons"
	o := standinBuild(t, dir)
	first, _, err := bed.BuildctlToOCI(testContext(t), o, "--export-cache", "type=registry,ref="+ref+",mode=max,registry.insecure=true")
	if err != nil {
		t.Fatal(err)
	}
	// Its package layer's step is keyed by cowsay's pin alone: this buildkitd may have it
	// from an earlier run, and exports it either way (mode=max).
	if step, ok := first.Step("[resolve] resolve -r requirements.txt"); !ok || step.Cached {
		t.Fatalf("the first build did not resolve:\n%s", first.Log)
	}
	if _, ok := first.Step("[deps] cowsay 6.1"); !ok {
		t.Fatalf("the first build has no step for cowsay's layer:\n%s", first.Log)
	}

	second, err := bed.StartDaemon(testContext(t), filepath.Join(t.TempDir(), "buildkitd"), "second-buildkitd")
	if err != nil {
		t.Fatal(err)
	}
	defer second.Stop()
	o.Addr = second.Socket
	res, _, err := bed.BuildctlToOCI(testContext(t), o, "--import-cache", "type=registry,ref="+ref+",registry.insecure=true")
	if err != nil {
		t.Fatal(err)
	}
	if step, ok := res.Step("[deps] cowsay 6.1"); !ok || !step.Cached {
		t.Errorf("the install was not CACHED on the second daemon:\n%s", res.Log)
	}
	// The resolution is in the exported graph too: the second daemon does not resolve again.
	if step, ok := res.Step("[resolve] resolve -r requirements.txt"); !ok || !step.Cached {
		t.Errorf("the resolution was not CACHED on the second daemon:\n%s", res.Log)
	}
}
