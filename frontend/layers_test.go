package frontend

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/acai-build/acai/plan"
	"github.com/acai-build/acai/spec"
	"github.com/moby/buildkit/frontend/dockerui"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
)

func packages(n int, version string) []plan.Package {
	out := make([]plan.Package, n)
	for i := range out {
		out[i] = plan.Package{Name: fmt.Sprintf("pkg%03d", i), Version: version, Source: plan.SourceIndex, Wheel: "w.whl"}
	}
	return out
}

// Up to max_layers, every package is its own layer; beyond, a package's layer depends
// on its name only: bumping one package's version, or adding one, changes one layer.
func TestLayerGroupsChangeOneLayerPerPackageChange(t *testing.T) {
	if g := layerGroups(packages(5, "1"), 60); len(g) != 5 || len(g[0]) != 1 {
		t.Fatalf("5 packages under a cap of 60: %d layers, want one each", len(g))
	}
	before := packages(200, "1")
	groups := layerGroups(before, 40)
	if len(groups) > 40 {
		t.Fatalf("%d layers over a cap of 40", len(groups))
	}
	bumped := slices.Clone(before)
	bumped[117].Version = "2"
	added := append(slices.Clone(before), plan.Package{Name: "newcomer", Version: "1", Source: plan.SourceIndex})
	for what, after := range map[string][]plan.Package{"a version bump": bumped, "a package added": added} {
		changed := 0
		for _, g := range layerGroups(after, 40) {
			if !slices.ContainsFunc(groups, func(o []plan.Package) bool { return slices.Equal(o, g) }) {
				changed++
			}
		}
		if changed != 1 {
			t.Errorf("%s changed %d layers, want 1", what, changed)
		}
	}
}

// requirementsOfAwslambdaricAndNumpy is an Acaifile of a requirement file, and its plan:
// awslambdaric 3.1.1 compiles, numpy 2.4.6 is a wheel.
func requirementsOfAwslambdaricAndNumpy(t *testing.T) (*spec.Acaifile, *plan.Plan) {
	t.Helper()
	a, err := spec.Parse("Acaifile", []byte(`requirements = "requirements.txt"`))
	if err != nil {
		t.Fatal(err)
	}
	return a, plan.Make(plan.Target{Arch: "x86_64", Python: "3.12"}, []plan.Package{
		{Name: "awslambdaric", Version: "3.1.1", Source: plan.SourceIndex},
		{Name: "numpy", Version: "2.4.6", Source: plan.SourceIndex, Wheel: "numpy-2.4.6-cp312-cp312-musllinux_1_2_x86_64.whl"}})
}

// A package's layer step installs that package alone, at its resolved version, with
// nothing of the rest of the set in its inputs; one that compiles builds from source.
func TestLayerStepInstallsOnePackageAlone(t *testing.T) {
	a, p := requirementsOfAwslambdaricAndNumpy(t)
	numpy := layerCommand(a, p.Packages[1:], p, nil, nil).step(stageDeps, "numpy 2.4.6")
	wantEqual(t, "progress name", numpy.ProgressName(), "[deps] numpy 2.4.6")
	wantArgs(t, numpy, "--no-deps", "-r", requirementsMount+"/"+layerRequirementsFile)
	files := mountAt(t, numpy, requirementsMount).Files
	if len(files.Context) != 0 || len(files.Generated) != 1 || string(files.Generated[0].Data) != "numpy==2.4.6\n" {
		t.Errorf("the numpy layer's inputs: context %v, generated %+v; want numpy==2.4.6 alone", files.Context, files.Generated)
	}
	wantArgs(t, numpy, "python", slimMount+"/slim.py", "/opt/venv") // each layer is slim by itself
	// awslambdaric compiles: its layer installs the wheel its own stage built.
	aws := layerCommand(a, p.Packages[:1], p, nil, nil).step(stageDeps, "awslambdaric 3.1.1")
	wantContainsString(t, "the layer's script", aws.Args[7], `"$@" /acai/wheels/awslambdaric/*.whl`)
	mountAt(t, aws, "/acai/wheels/awslambdaric")
	if strings.Contains(strings.Join(numpy.Args, " "), "--no-binary") || strings.Contains(strings.Join(numpy.Args, " "), wheelsMount) {
		t.Errorf("the numpy layer builds from source: %v", numpy.Args)
	}
	if data := string(mountAt(t, aws, requirementsMount).Files.Generated[0].Data); data != "" {
		t.Errorf("the awslambdaric layer installs %q besides its wheel", data)
	}
}

// Where a build gets one dependency layer, the reason is one the user can act on.
func TestSingleDependencyLayerSaysWhy(t *testing.T) {
	wheel := []plan.Package{{Name: "cowsay", Version: "6.1", Source: plan.SourceIndex, Wheel: "cowsay-6.1-py3-none-any.whl"}}
	resolved := plan.Make(plan.Target{Arch: "x86_64", Python: "3.12"}, wheel)
	namedOnly := *resolved
	namedOnly.NamedOnly = true
	cross := *resolved
	cross.Cross = true
	local := plan.Make(resolved.Target, []plan.Package{{Name: "mine", Source: plan.SourceDirectory}})
	for _, c := range []struct {
		acaifile string
		files    map[string][]byte
		plan     *plan.Plan
		want     string
	}{
		{`packages = ["cowsay==6.1"]` + "\n[runtime]\nlayers = \"single\"", nil, resolved, `layers = "single"`},
		{`packages = ["cowsay==6.1"]`, nil, nil, "not resolved ahead"},
		{`packages = ["cowsay==6.1"]`, nil, &namedOnly, "resolved by the install"},
		{`packages = ["cowsay==6.1"]`, nil, &cross, "a cross build"},
		{`lock = "uv.lock"`, nil, resolved, "a uv.lock of packages from more than one index installs as one layer"},
		{`requirements = "r.txt"`, map[string][]byte{"r.txt": []byte("numpy==2.4.6 --hash=sha256:00\n")}, resolved, "cowsay has no hash-pinned line in the requirement files"},
		{`requirements = "r.txt"`, map[string][]byte{"r.txt": []byte("--find-links ./dist\ncowsay==6.1\n")}, resolved, "--find-links names a directory of the build context"},
		{`requirements = "r.txt"`, map[string][]byte{"r.txt": []byte("./mine\n")}, local, "mine is not from an index"},
		// what is left: the daemon's capabilities (a unit test has none)
		{`packages = ["cowsay==6.1"]`, nil, resolved, "cannot merge layers"},
	} {
		a, err := spec.ParseWithContext("Acaifile", []byte(c.acaifile), spec.ContextFiles{Read: true})
		if err != nil {
			t.Fatal(err)
		}
		conv := &converter{bc: &dockerui.Client{}, spec: a, files: c.files, plan: c.plan}
		got := conv.packageLayersOff(depsCommands(a, Project{}, nil))
		if !strings.Contains(got, c.want) {
			t.Errorf("%s: one layer because %q, want %q", c.acaifile, got, c.want)
		}
	}
}

// A pylock.toml's or poetry.lock's package layer installs that package's line of the lock,
// checked against the lock's own hashes; a package the lock lacks keeps one layer.
func TestLockPackageLayersCheckTheLocksHashes(t *testing.T) {
	resolved := plan.Make(plan.Target{Arch: "x86_64", Python: "3.12"}, []plan.Package{{Name: "cowsay", Version: "6.1", Source: plan.SourceIndex, Wheel: "cowsay-6.1-py3-none-any.whl"}})
	for _, c := range []struct {
		acaifile string
		project  Project
		line     string
	}{
		{`lock = "pylock.toml"`, Project{LockHashedRequirements: []byte("cowsay==6.1 --hash=sha256:aa --hash=sha256:bb\n")}, "cowsay==6.1 --hash=sha256:aa --hash=sha256:bb"},
		{`lock = "poetry.lock"`, Project{LockRequirements: []byte("Cowsay==6.1 ; python_version >= \"3.8\" \\\n    --hash=sha256:aa\n")}, `Cowsay==6.1 ; python_version >= "3.8" --hash=sha256:aa`},
	} {
		a, err := spec.ParseWithContext("Acaifile", []byte(c.acaifile), spec.ContextFiles{Read: true})
		if err != nil {
			t.Fatal(err)
		}
		conv := &converter{bc: &dockerui.Client{}, spec: a, plan: resolved, project: c.project}
		if why := conv.packageLayersOff(depsCommands(a, c.project, nil)); !strings.Contains(why, "cannot merge layers") {
			t.Errorf("%s: one layer because %q; want package layers (but for the capabilities a unit test lacks)", c.acaifile, why)
		}
		step := layerCommand(a, resolved.Packages, resolved, conv.pinnedLines(), nil).step(stageDeps, "cowsay 6.1")
		wantArgs(t, step, "--no-deps", "-r", requirementsMount+"/"+layerRequirementsFile, "--require-hashes")
		if got := string(mountAt(t, step, requirementsMount).Files.Generated[0].Data); got != c.line+"\n" {
			t.Errorf("%s: the layer installs %q, want the lock's line %q", c.acaifile, got, c.line)
		}
		other := plan.Make(resolved.Target, append(slices.Clone(resolved.Packages), plan.Package{Name: "numpy", Version: "2.4.6", Source: plan.SourceIndex}))
		conv.plan = other
		if why := conv.packageLayersOff(depsCommands(a, c.project, nil)); !strings.Contains(why, "numpy is not in") {
			t.Errorf("%s: a package the lock lacks: %q", c.acaifile, why)
		}
	}
}

// A package that compiles has a wheel stage of its own: pip wheel of exactly its pinned
// sdist, checked against the resolution's hash, with no dependencies and none of the
// project's other requirements among its inputs, dated for the same bytes every time.
func TestWheelStepBuildsOnePinnedSdist(t *testing.T) {
	p := plan.Make(plan.Target{Arch: "x86_64", Python: "3.12"}, []plan.Package{
		{Name: "awslambdaric", Version: "3.1.1", Source: plan.SourceIndex, SdistSHA256: "1c1f"},
		{Name: "numpy", Version: "2.4.6", Source: plan.SourceIndex, Wheel: "numpy-2.4.6-cp312-cp312-musllinux_1_2_x86_64.whl"}})
	r := wheelStep([]string{"--index-url", "https://i.example/simple"}, nil, p.SourceBuilds[0], p)
	wantEqual(t, "progress name", r.ProgressName(), "[wheels] awslambdaric 3.1.1 from its source distribution (pip wheel)")
	wantArgs(t, r, "python", "-m", "pip", "wheel", "--no-deps", "--no-binary", "awslambdaric", "--wheel-dir", wheelOutMount, "-r", wheelReqFile, "--require-hashes", "--index-url", "https://i.example/simple")
	files := mountAt(t, r, requirementsMount).Files
	if len(files.Context) != 0 || len(files.Generated) != 2 || files.Generated[1].Path != wheelReqFile || string(files.Generated[1].Data) != "awslambdaric==3.1.1 --hash=sha256:1c1f\n" {
		t.Errorf("the wheel step's inputs: context %v, generated %+v", files.Context, files.Generated)
	}
	if !slices.Contains(r.Env, [2]string{"SOURCE_DATE_EPOCH", wheelEpoch}) || !slices.Contains(r.Env, [2]string{"CFLAGS", "-g0"}) {
		t.Errorf("the wheel step's environment %v: no fixed date or no -g0", r.Env)
	}
	if !strings.Contains(strings.Join(r.Args, " "), "awslambdaric 3.1.1 (acai") {
		t.Errorf("a failed compile prints no hint: %q", r.Args[:4])
	}
	mountAt(t, r, ccMount)
}

// mergingGateway is a gateway whose daemon has every LLB capability, MergeOp and DiffOp
// among them (BuildKit 0.10 or later with a containerd or OCI worker): what one layer
// per package needs. Nothing else of it is called.
type mergingGateway struct{ gwclient.Client }

func (mergingGateway) BuildOpts() gwclient.BuildOpts {
	return gwclient.BuildOpts{Opts: map[string]string{}, LLBCaps: pb.Caps.CapSet(pb.Caps.All())}
}

func mergingDaemon(t *testing.T) *dockerui.Client {
	t.Helper()
	bc, err := dockerui.NewClient(mergingGateway{})
	if err != nil {
		t.Fatal(err)
	}
	return bc
}

// A lock's package that compiles installs, in its own layer, the wheel its own stage
// built, as a requirement file's does: then no install compiles, and the builder of the
// installs gets no toolchain. Sharing a layer with other packages (past max_layers), it
// compiles in that layer's step, checked against the lock's hashes, on a builder with
// the toolchain. A uv.lock, a pylock.toml and a poetry.lock alike.
func TestLockPackageThatCompilesTakesItsWheel(t *testing.T) {
	target := plan.Target{Arch: "x86_64", Python: "3.12"}
	p := plan.Make(target, []plan.Package{
		{Name: "awslambdaric", Version: "3.1.1", Source: plan.SourceIndex, SdistSHA256: "1c1f"},
		{Name: "simplejson", Version: "4.3.0", Source: plan.SourceIndex, Wheel: "simplejson-4.3.0-cp312-cp312-musllinux_1_2_x86_64.whl"}})
	lines := "awslambdaric==3.1.1 --hash=sha256:1c1f\nsimplejson==4.3.0 --hash=sha256:5e\n"
	for _, c := range []struct {
		acaifile string
		project  Project
	}{
		{`lock = "uv.lock"`, Project{LockHashedRequirements: []byte(lines)}},
		{`lock = "pylock.toml"`, Project{LockHashedRequirements: []byte(lines), LockRequirements: []byte("awslambdaric==3.1.1\nsimplejson==4.3.0\n")}},
		{`lock = "poetry.lock"`, Project{LockRequirements: []byte(lines)}},
	} {
		for _, max := range []int{60, 1} {
			a, err := spec.ParseWithContext("Acaifile", []byte(fmt.Sprintf("%s\n[runtime]\nmax_layers = %d\n", c.acaifile, max)), spec.ContextFiles{Read: true})
			if err != nil {
				t.Fatal(err)
			}
			conv := &converter{bc: mergingDaemon(t), spec: a, plan: p, project: c.project}
			cmds := depsCommands(a, c.project, nil)
			wantEqual(t, c.acaifile+": one layer because", conv.packageLayersOff(cmds), "")
			groups := layerGroups(p.Packages, max)
			cmd := layerCommand(a, groups[0], p, conv.pinnedLines(), nil)
			step := cmd.step(stageDeps, cmd.what)
			args := strings.Join(step.Args, " ")
			if max == 60 {
				wantEqual(t, c.acaifile+": the layer", step.ProgressName(), "[deps] awslambdaric 3.1.1 (its wheel, compiled from source)")
				wantContainsString(t, c.acaifile+": the layer's script", args, `"$@" /acai/wheels/awslambdaric/*.whl`)
				if strings.Contains(args, "--require-hashes") || strings.Contains(args, layerRequirementsFile) {
					t.Errorf("%s: the wheel's layer also installs by the lock's hashes: %s", c.acaifile, args)
				}
				wantEqual(t, c.acaifile+": the installs compile", conv.installsCompile(cmds), false)
				wantContainsString(t, c.acaifile+": --call plan", conv.compilingText(cmds), "each in a stage of its own ([wheels]), whose wheel the install takes: awslambdaric 3.1.1")
				continue
			}
			wantEqual(t, c.acaifile+": the shared layer", step.ProgressName(), "[deps] awslambdaric 3.1.1 (builds from source), simplejson 4.3.0")
			wantContainsString(t, c.acaifile+": the shared layer's command", args, "--require-hashes")
			wantContainsString(t, c.acaifile+": the shared layer's command", args, "--no-binary awslambdaric")
			wantEqual(t, c.acaifile+": the installs compile", conv.installsCompile(cmds), true)
			wantContainsString(t, c.acaifile+": --call plan", conv.compilingText(cmds), "; the install compiles too")
		}
	}
}

// A uv.lock project's packages get one layer each, from the lock's hash-pinned lines; the
// project itself installs on top, one more layer, which --call plan counts.
func TestUVLockProjectGetsPackageLayers(t *testing.T) {
	p := plan.Make(plan.Target{Arch: "x86_64", Python: "3.12"}, []plan.Package{{Name: "cowsay", Version: "6.1", Source: plan.SourceIndex, Wheel: "cowsay-6.1-py3-none-any.whl"}})
	a, err := spec.ParseWithContext("Acaifile", []byte("lock = \"uv.lock\"\n"), spec.ContextFiles{Read: true})
	if err != nil {
		t.Fatal(err)
	}
	project := Project{Installable: true, LockHashedRequirements: []byte("cowsay==6.1 --hash=sha256:aa\ncowsay==7.0 --hash=sha256:bb\n")}
	conv := &converter{bc: mergingDaemon(t), spec: a, plan: p, project: project}
	cmds := depsCommands(a, project, nil)
	wantEqual(t, "one layer because", conv.packageLayersOff(cmds), "")
	wantEqual(t, "the layering", conv.layering(cmds), "one per package: 3 layers (max_layers 60)") // the venv, cowsay, the project
	wantEqual(t, "cowsay's line (the version the plan resolved)", conv.pinnedLines()["cowsay"], "cowsay==6.1 --hash=sha256:aa")
}

// A requirement file that pins hashes of its own (pip-compile --generate-hashes) gets a
// layer per package, each installing its line of the file, checked against its hashes; a
// package that compiles takes the wheel its own stage built. The file's own index options
// go with each package, to its layer and to its wheel stage.
func TestHashPinnedRequirementFileGetsPackageLayers(t *testing.T) {
	p := plan.Make(plan.Target{Arch: "x86_64", Python: "3.12"}, []plan.Package{
		{Name: "awslambdaric", Version: "3.1.1", Source: plan.SourceIndex, SdistSHA256: "1c1f"},
		{Name: "simplejson", Version: "4.3.0", Source: plan.SourceIndex, Wheel: "simplejson-4.3.0-cp312-cp312-musllinux_1_2_x86_64.whl"}})
	a, err := spec.ParseWithContext("Acaifile", []byte(`requirements = "requirements.txt"`), spec.ContextFiles{Read: true})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"requirements.txt": []byte("# pip-compile --generate-hashes\n--extra-index-url https://wheels.example/simple\n-r base.txt\n" +
			"awslambdaric==3.1.1 \\\n    --hash=sha256:1c1f \\\n    --hash=sha256:2d2e\n    # via -r requirements.in\n"),
		"base.txt": []byte("simplejson==4.3.0 --hash=sha256:5e ; python_version >= \"3.8\"\n"),
	}
	conv := &converter{bc: mergingDaemon(t), spec: a, plan: p, files: files, inputs: map[string][]string{"requirements.txt": {"base.txt", "requirements.txt"}}}
	cmds := conv.withOwnInstallOptions(depsCommands(a, Project{}, nil))
	wantEqual(t, "one layer because", conv.packageLayersOff(cmds), "")
	if !slices.Contains(cmds[0].resolve, "--no-deps") {
		t.Errorf("the resolve of a hash-pinned file is %q: it names the whole set, so --no-deps", cmds[0].resolve)
	}
	options := conv.requirementIndexOptions()
	wantEqual(t, "the files' index options", strings.Join(options, "|"), "--extra-index-url https://wheels.example/simple")
	lines := conv.pinnedLines()
	simplejson := layerCommand(a, p.Packages[1:], p, lines, options)
	wantEqual(t, "simplejson's layer file", string(simplejson.generated[layerRequirementsFile]),
		"--extra-index-url https://wheels.example/simple\nsimplejson==4.3.0 --hash=sha256:5e ; python_version >= \"3.8\"\n")
	if !slices.Contains(simplejson.args, "--require-hashes") {
		t.Errorf("simplejson's layer does not check its hashes: %q", simplejson.args)
	}
	aws := layerCommand(a, p.Packages[:1], p, lines, options)
	wantEqual(t, "awslambdaric's layer", aws.what, "awslambdaric 3.1.1 (its wheel, compiled from source)")
	if !slices.Equal(aws.wheels, []string{"awslambdaric"}) {
		t.Errorf("awslambdaric's layer takes wheels %q, want its own", aws.wheels)
	}
	wantEqual(t, "the installs compile", fmt.Sprint(conv.installsCompile(cmds)), "false")
	wheel := wheelCommand(nil, options, p.SourceBuilds[0], p)
	wantEqual(t, "the wheel stage's file", string(wheel.generated[wheelReqFile]),
		"--extra-index-url https://wheels.example/simple\nawslambdaric==3.1.1 --hash=sha256:1c1f\n")
}

// The one install mounts the resolution (which puts the resolve steps into a mode=max
// cache export); a package's layer and its wheel build do not: their cache keys hold
// their package alone, so another project's build finds them CACHED.
func TestOnlyTheWholeSetsInstallMountsTheResolution(t *testing.T) {
	a, p := requirementsOfAwslambdaricAndNumpy(t)
	for _, r := range installSteps(depsCommands(a, Project{}, nil), p) {
		if !r.MountsResolution {
			t.Errorf("the install %q does not mount the resolution", r.Name)
		}
	}
	layer := layerCommand(a, p.Packages[1:], p, nil, nil)
	if layer.step(stageDeps, layer.what).MountsResolution {
		t.Error("numpy's layer mounts the resolution")
	}
	if wheelStep(nil, nil, p.SourceBuilds[0], p).MountsResolution {
		t.Error("awslambdaric's wheel build mounts the resolution")
	}
}
