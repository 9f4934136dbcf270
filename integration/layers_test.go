package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/acai-build/acai/integration/testbed"
)

// One layer per package (README, "Layers"): the Lambda example's set, each package in
// its own layer, named in the image history as in the progress. Bumping one pin
// (simplejson 4.2.0, one release back, to the example's 4.3.0) ships one layer: every
// other layer is the same blob, every other package's step CACHED. Adding a package to
// the requirements likewise adds one layer. The handler answers throughout.
func TestOnePackageChangeShipsOneLayer(t *testing.T) {
	t.Parallel()
	dir := example(t, "lambda")
	reqs := readHostFile(t, filepath.Join(dir, "requirements.txt"))
	if !strings.Contains(reqs, "simplejson==4.3.0\n") {
		t.Fatalf("the Lambda example no longer pins simplejson 4.3.0: update this test\n%s", reqs)
	}
	setFile(t, dir, "requirements.txt", strings.Replace(reqs, "simplejson==4.3.0", "simplejson==4.2.0", 1))
	first := mustBuild(t, bed.BuildInProcess, standinBuild(t, dir))
	before := layersByHistory(t, first.Image)
	for _, pkg := range []string{"awslambdaric 4.2.2", "numpy 2.4.6", "pandas 3.1.1", "pyarrow 26.0.1", "simplejson 4.2.0"} {
		if _, ok := before["[deps] "+pkg]; !ok {
			t.Errorf("no layer of its own for %s; the image's history: %v", pkg, keys(before))
		}
		if _, ok := first.Step("[deps] " + pkg); !ok {
			t.Errorf("no progress step [deps] %s", pkg)
		}
	}
	reply := invokeLambda(t, first, map[string]any{"records": []map[string]any{{"city": "Paris", "sales": 3}, {"city": "Lyon", "sales": 5}}})
	wantContains(t, "the handler's response", reply, `"rows": 2`, `"sales_by_city": {"Lyon": 5, "Paris": 3}`)

	setFile(t, dir, "requirements.txt", reqs) // the bump: simplejson 4.3.0
	bumped := mustBuild(t, bed.BuildInProcess, standinBuild(t, dir))
	between := layersByHistory(t, bumped.Image)
	wantOneLayerChanged(t, before, between, "simplejson 4.3.0")
	wantUnchangedStepsCached(t, bumped, "the simplejson bump", "awslambdaric 4.2.2", "numpy 2.4.6", "pandas 3.1.1", "pyarrow 26.0.1", "tzdata 2026.6")
	wantContains(t, "simplejson in the bumped image", execIn(t, bumped.Image, "python", "-c", "import simplejson; print(simplejson.__version__)"), "4.3.0")

	setFile(t, dir, "requirements.txt", reqs+"cowsay==6.1\n")
	second := mustBuild(t, bed.BuildInProcess, standinBuild(t, dir))
	after := layersByHistory(t, second.Image)
	wantOneLayerChanged(t, between, after, "cowsay 6.1")
	wantUnchangedStepsCached(t, second, "cowsay's addition", "numpy 2.4.6", "pandas 3.1.1", "pyarrow 26.0.1", "simplejson 4.3.0")
	if !second.Exists("/var/task/cowsay/__init__.py") || !second.Exists("/var/task/numpy/__init__.py") {
		t.Error("the rebuilt image lacks cowsay or numpy in /var/task")
	}
	reply = invokeLambda(t, second, map[string]any{"records": []map[string]any{{"city": "Lyon", "sales": 1}}})
	wantContains(t, "the handler's response after both changes", reply, `"sales_by_city": {"Lyon": 1}`)
}

// wantUnchangedStepsCached checks that the install steps of the packages a change did
// not touch were CACHED.
func wantUnchangedStepsCached(t *testing.T, res *testbed.Result, change string, pkgs ...string) {
	t.Helper()
	for _, pkg := range pkgs {
		if s, ok := res.Step("[deps] " + pkg); !ok || !s.Cached {
			t.Errorf("[deps] %s was not CACHED after %s (found: %v)", pkg, change, ok)
		}
	}
}

// `layers = "single"` installs as before: one copy of the dependency directory, whose
// history entry says why; max_layers groups packages by name, so one change still
// changes one layer.
func TestDependencyLayersSingleAndCapped(t *testing.T) {
	t.Parallel()
	single := example(t, "lambda")
	appendFile(t, single, "Acaifile", "layers = \"single\"\n") // under [runtime], the file's last table
	res := mustBuild(t, bed.BuildInProcess, standinBuild(t, single))
	h := layersByHistory(t, res.Image)
	if _, ok := h[`[runner] copy installed packages /var/task (one layer: layers = "single")`]; !ok {
		t.Errorf("layers = \"single\": no single copy of /var/task; history: %v", keys(h))
	}
	if n := countPrefix(h, "[deps] "); n != 0 {
		t.Errorf("layers = \"single\" gave %d package layers", n)
	}

	capped := example(t, "lambda")
	appendFile(t, capped, "Acaifile", "max_layers = 3\n")
	first := layersByHistory(t, mustBuild(t, bed.BuildInProcess, standinBuild(t, capped)).Image)
	if n := countPrefix(first, "[deps] "); n != 3 {
		t.Errorf("max_layers = 3: %d dependency layers, want 3: %v", n, keys(first))
	}
	setFile(t, capped, "requirements.txt", readHostFile(t, filepath.Join(capped, "requirements.txt"))+"cowsay==6.1\n")
	second := mustBuild(t, bed.BuildInProcess, standinBuild(t, capped))
	wantOneLayerChanged(t, first, layersByHistory(t, second.Image), "cowsay 6.1")
	reply := invokeLambda(t, second, map[string]any{"records": []map[string]any{{"city": "Lyon", "sales": 1}}})
	wantContains(t, "the handler's response", reply, `"rows": 1`)
}

// The same package version for the same Python and platform is the same layer in every
// image that has it, built anywhere: two projects (the Lambda example, and another app
// on numpy and pandas) on two fresh daemons, with SOURCE_DATE_EPOCH and
// rewrite-timestamp, share their numpy and pandas layers byte for byte.
func TestPackageLayersAreTheSameAcrossProjectsAndDaemons(t *testing.T) {
	t.Parallel()
	other := project(t, bed.WithSyntax("python = \"3.12\"\nrequirements = \"requirements.txt\"\nentrypoint = [\"python\", \"report.py\"]\n[runtime]\nlayout = \"lambda\"\n"),
		map[string]string{
			"requirements.txt": "numpy==2.4.6\npandas==3.1.1\npython-dateutil==4.0.0\ntzdata==2026.6\n",
			"report.py":        "import pandas\nprint(pandas.DataFrame({'n': [1, 2]}).n.sum())\n",
		})
	lambda := example(t, "lambda")
	setFile(t, lambda, "Acaifile", bed.WithSyntax(readHostFile(t, filepath.Join(lambda, "Acaifile"))))
	var layers []map[string]layerInfo
	for i, dir := range []string{lambda, other} {
		d, err := bed.StartDaemon(testContext(t), filepath.Join(t.TempDir(), "buildkitd"), fmt.Sprintf("layers-buildkitd-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		o := standinBuild(t, dir)
		o.Addr = d.Socket
		o.Args["SOURCE_DATE_EPOCH"] = "1700000000"
		o.Output = "rewrite-timestamp=true"
		_, layout, err := bed.BuildctlToOCI(testContext(t), o)
		d.Stop()
		if err != nil {
			t.Fatal(err)
		}
		img, err := bed.OpenLayout(layout)
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			wantContains(t, "the other app's output", run(t, img), "3")
		}
		layers = append(layers, layersByHistory(t, img))
		img.Remove()
	}
	for _, pkg := range []string{"[deps] numpy 2.4.6", "[deps] pandas 3.1.1", "[deps] tzdata 2026.6"} {
		a, b := layers[0][pkg], layers[1][pkg]
		if a.digest == "" || a.digest != b.digest {
			t.Errorf("%s: layer %q in the Lambda example, %q in the other project", pkg, a.digest, b.digest)
		}
	}
}

// wantOneLayerChanged checks what a change of one package did to the image: the
// package layers that do not hold pkg are the same blobs as before, and the bytes of
// the layers the image did not have are at most 1.1 times pkg's layer (the goal
// figure; the rest is the runner's own small steps, whose files carry the time they
// ran unless SOURCE_DATE_EPOCH and rewrite-timestamp are set).
func wantOneLayerChanged(t *testing.T, before, after map[string]layerInfo, pkg string) {
	t.Helper()
	var changed string
	for h, l := range after {
		if !strings.HasPrefix(h, "[deps] ") {
			continue
		}
		if strings.Contains(h, pkg) {
			changed = h
			continue
		}
		if prev, ok := before[h]; !ok || prev.digest != l.digest {
			t.Errorf("%s changed (%s, was %s), although it does not hold %s", h, l.digest, prev.digest, pkg)
		}
	}
	if changed == "" {
		t.Fatalf("no layer holds %s: %v", pkg, keys(after))
	}
	var newBytes, depsBytes int64
	for h, l := range after {
		if !slices.ContainsFunc(values(before), func(o layerInfo) bool { return o.digest == l.digest }) {
			newBytes += l.size
		}
		if strings.HasPrefix(h, "[deps] ") {
			depsBytes += l.size
		}
	}
	t.Logf("%s: new layers %d bytes (compressed), its layer %q %d bytes; the dependency layers hold %d bytes", pkg, newBytes, changed, after[changed].size, depsBytes)
	if float64(newBytes) > 1.1*float64(after[changed].size) {
		t.Errorf("the change of %s ships %d bytes of new layers, more than 1.1 × its layer's %d", pkg, newBytes, after[changed].size)
	}
}

type layerInfo struct {
	digest string
	size   int64
}

// layersByHistory maps each layer-making history entry of img to its layer.
func layersByHistory(t *testing.T, img *testbed.Image) map[string]layerInfo {
	t.Helper()
	ls, err := img.OCI.Layers()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]layerInfo{}
	i := 0
	for _, h := range img.Config.History {
		if h.EmptyLayer {
			continue
		}
		if i >= len(ls) {
			t.Fatalf("more history entries with layers than the %d layers", len(ls))
		}
		d, err := ls[i].Digest()
		if err != nil {
			t.Fatal(err)
		}
		size, _ := ls[i].Size()
		out[h.CreatedBy] = layerInfo{digest: d.String(), size: size}
		i++
	}
	if i != len(ls) {
		t.Fatalf("%d layers, %d history entries with layers", len(ls), i)
	}
	return out
}

func keys(m map[string]layerInfo) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func values(m map[string]layerInfo) []layerInfo {
	var out []layerInfo
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func countPrefix(m map[string]layerInfo, prefix string) int {
	n := 0
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}

func appendFile(t *testing.T, dir, name, more string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(more); err != nil {
		t.Fatal(err)
	}
}
