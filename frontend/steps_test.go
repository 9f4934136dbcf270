package frontend

import (
	"github.com/moby/buildkit/frontend/dockerui"
	"slices"
	"strings"
	"testing"

	"github.com/acai-build/acai/model"
	"github.com/acai-build/acai/plan"
	"github.com/acai-build/acai/spec"
)

var poetryLock = []byte("cowsay==6.1 \\\n    --hash=sha256:274b1e6fc1b966d53976333eb90ac94cb07a450a700b455af9fbdf882244b30a\n")

// The install steps of the build model, as an Acaifile's keys make them: one row per key
// (or per value of one), with what it changes in the steps. No daemon: the model is what
// both the LLB and the ejected Dockerfile are emitted from.
var installStepRows = []struct {
	key, acaifile string
	project       Project
	plan          *plan.Plan
	want          func(t *testing.T, steps []model.Run)
}{
	{key: "requirements", acaifile: `requirements = ["requirements.txt", "dev.txt"]`, want: func(t *testing.T, s []model.Run) {
		one(t, s, "uv pip install -r requirements.txt -r dev.txt")
		wantArgs(t, s[0], "-r", "/acai/requirements/requirements.txt", "-r", "/acai/requirements/dev.txt")
		wantEqualSlices(t, "the step's context inputs", mountAt(t, s[0], requirementsMount).Files.Context, []string{"requirements.txt", "dev.txt"})
		wantEqualSlices(t, "keys", s[0].Keys, []string{"requirements", "packages"})
	}},
	{key: "packages", acaifile: `packages = ["cowsay==6.1"]`, want: func(t *testing.T, s []model.Run) {
		one(t, s, "uv pip install cowsay==6.1")
		wantArgs(t, s[0], "cowsay==6.1")
		if f := mountAt(t, s[0], requirementsMount).Files; len(f.Context) != 0 {
			t.Errorf("packages alone read context files %v", f.Context)
		}
	}},
	{key: "build.installer (uv, the default)", acaifile: `packages = ["x==1"]`, want: func(t *testing.T, s []model.Run) {
		wantArgs(t, s[0], "python", uvSettingsMount+"/uvsettings.py", uvMount+"/uv", "pip", "install", "--python", "/opt/venv/bin/python", "--compile-bytecode")
		wantEqual(t, "uv's mount", mountAt(t, s[0], uvMount).Tool, model.ToolUV)
		wantEqual(t, "cache", mountAt(t, s[0], "/root/.cache/uv").Cache, "acai-uv")
		wantEqual(t, "uv.toml secret", mountAt(t, s[0], "/etc/uv/uv.toml").Secret, "uv.toml")
	}},
	{key: "build.installer = pip", acaifile: "packages = [\"x==1\"]\n[build]\ninstaller = \"pip\"", want: func(t *testing.T, s []model.Run) {
		one(t, s, "pip install x==1")
		wantArgs(t, s[0], "python", "-m", "pip", "--python", "/opt/venv/bin/python", "install", "--prefer-binary")
		wantEqual(t, "cache", mountAt(t, s[0], "/root/.cache/pip").Cache, "acai-pip")
		if slices.ContainsFunc(s[0].Mounts, func(m model.Mount) bool { return m.Tool != "" }) {
			t.Error("a pip install mounts uv")
		}
		wantEqualSlices(t, "build args read", s[0].ArgPrefixes, []string{"PIP_"})
	}},
	{key: "build.index_url, build.extra_index_urls, build.find_links, build.no_deps", acaifile: "packages = [\"x==1\"]\n[build]\nindex_url = \"https://i.example/simple\"\nextra_index_urls = [\"https://e.example/simple\"]\nfind_links = [\"https://w.example/\"]\nno_deps = true",
		want: func(t *testing.T, s []model.Run) {
			wantArgs(t, s[0], "--index-url", "https://i.example/simple", "--extra-index-url", "https://e.example/simple", "--find-links", "https://w.example/", "--no-deps", "x==1")
		}},
	{key: "runtime.layout = lambda", acaifile: "packages = [\"x==1\"]\n[runtime]\nlayout = \"lambda\"", want: func(t *testing.T, s []model.Run) {
		wantArgs(t, s[0], "install", "--target", "/var/task")
	}},
	{key: "lock = uv.lock, build.extras, build.groups", acaifile: "lock = \"uv.lock\"\n[build]\nextras = [\"yaml\"]\ngroups = [\"docs\"]", project: Project{Installable: true},
		want: func(t *testing.T, s []model.Run) {
			if len(s) != 2 {
				t.Fatalf("%d steps, want the locked install and the project", len(s))
			}
			wantEqual(t, "name", s[0].Name, "uv sync --locked --no-dev --no-install-project (uv.lock)")
			wantEqualSlices(t, "inputs", mountAt(t, s[0], requirementsMount).Files.Context, []string{"uv.lock", "pyproject.toml"})
			wantContainsString(t, "the export", strings.Join(s[0].Args, " "), "--extra' 'yaml' '--group' 'docs'")
			wantEqual(t, "project step", s[1].Name, "uv pip install --no-deps . (the project, non-editable)")
			if mountAt(t, s[1], projectMount).Project == nil {
				t.Error("the project step does not mount the project")
			}
		}},
	{key: "lock = poetry.lock", acaifile: `lock = "poetry.lock"`, project: Project{LockRequirements: poetryLock}, want: func(t *testing.T, s []model.Run) {
		wantEqual(t, "name", s[0].Name, "uv pip install --no-deps --require-hashes (poetry.lock, groups main)")
		f := mountAt(t, s[0], requirementsMount).Files
		if len(f.Context) != 0 || len(f.Generated) != 1 || f.Generated[0].Path != poetryRequirementsFile || string(f.Generated[0].Data) != string(poetryLock) {
			t.Errorf("inputs %+v, want the exported lock alone", f)
		}
	}},
	{key: "lock = pylock.toml", acaifile: `lock = "pylock.toml"`, want: func(t *testing.T, s []model.Run) {
		one(t, s, "uv pip install -r pylock.toml")
		wantArgs(t, s[0], "-r", "/acai/requirements/pylock.toml")
	}},
	{key: "runtime.slim (on by default)", acaifile: `packages = ["x==1"]`, want: func(t *testing.T, s []model.Run) {
		wantEqualSlices(t, "the step runs through slim.py", s[0].Args[:5], []string{"python", slimMount + "/slim.py", "/opt/venv", slimMount + "/keep.txt", "--"})
		wantContainsString(t, "keep.txt", string(mountAt(t, s[0], slimMount).Files.Generated[1].Data), "Cython")
	}},
	{key: "runtime.slim = false", acaifile: "packages = [\"x==1\"]\n[runtime]\nslim = false", want: func(t *testing.T, s []model.Run) {
		if slices.ContainsFunc(s[0].Mounts, func(m model.Mount) bool { return m.Target == slimMount }) || slices.Contains(s[0].Args, slimMount+"/slim.py") {
			t.Errorf("slim = false still slims: %q", s[0].Args)
		}
	}},
	{key: "runtime.keep, layout = lambda", acaifile: "packages = [\"x==1\"]\n[runtime]\nlayout = \"lambda\"\nkeep = [\"mypkg/tests\", \"other/*.pyi\"]", want: func(t *testing.T, s []model.Run) {
		wantArgs(t, s[0], slimMount+"/slim.py", "/var/task")
		wantContainsString(t, "keep.txt", string(mountAt(t, s[0], slimMount).Files.Generated[1].Data), "# [runtime] keep\nmypkg/tests\nother/*.pyi\n")
	}},
	{key: "runtime.slim leaves a uv.lock's own project alone", acaifile: `lock = "uv.lock"`, project: Project{Installable: true}, want: func(t *testing.T, s []model.Run) {
		mountAt(t, s[0], slimMount)
		if slices.ContainsFunc(s[1].Mounts, func(m model.Mount) bool { return m.Target == slimMount }) {
			t.Errorf("the project's own install is slimmed: %s", s[1].Name)
		}
	}},
	{key: "test.requirements, test.packages", acaifile: "[test]\ncommand = \"pytest\"\nrequirements = \"test.txt\"\npackages = [\"pytest==8\"]", want: func(t *testing.T, s []model.Run) {
		if len(s) != 0 {
			t.Errorf("the deps stage installs %d steps, want none", len(s))
		}
	}},
	{key: "the plan: a source build and pins", acaifile: `packages = ["awslambdaric==3.1.1", "numpy"]`,
		plan: plan.Make(plan.Target{Arch: "x86_64", Python: "3.12"}, []plan.Package{
			{Name: "awslambdaric", Version: "3.1.1", Source: plan.SourceIndex},
			{Name: "numpy", Version: "2.4.6", Source: plan.SourceIndex, Wheel: "numpy-2.4.6-cp312-cp312-musllinux_1_2_x86_64.whl"}}),
		want: func(t *testing.T, s []model.Run) {
			// awslambdaric's wheel is compiled in its own stage; the install takes it.
			wantContainsString(t, "name", s[0].Name, "(wheels compiled from source: awslambdaric 3.1.1)")
			wantContainsString(t, "the install's script", s[0].Args[7], `"$@" /acai/wheels/awslambdaric/*.whl`)
			wantArgs(t, s[0], "--no-binary", ":none:")
			wantEqual(t, "the wheel's mount", mountAt(t, s[0], "/acai/wheels/awslambdaric").Wheel, "awslambdaric")
			wantArgs(t, s[0], "-c", "/acai/requirements/"+resolvedPinsFile)
		}},
	{key: "the plan: a lock's source build compiles in the install", acaifile: `lock = "pylock.toml"`, project: Project{LockRequirements: []byte("awslambdaric==3.1.1\n")},
		plan: plan.Make(plan.Target{Arch: "x86_64", Python: "3.12"}, []plan.Package{{Name: "awslambdaric", Version: "3.1.1", Source: plan.SourceIndex}}),
		want: func(t *testing.T, s []model.Run) {
			wantContainsString(t, "name", s[0].Name, "(builds from source: awslambdaric 3.1.1)")
			wantArgs(t, s[0], "--no-binary", "awslambdaric")
			if s[0].Args[0] != "/bin/sh" || !strings.Contains(s[0].Args[3], "awslambdaric") {
				t.Errorf("a step that compiles prints no hint when it fails: %q", s[0].Args[:4])
			}
		}},
}

// TestInstallStepsFollowTheAcaifile runs installStepRows.
func TestInstallStepsFollowTheAcaifile(t *testing.T) {
	for _, c := range installStepRows {
		t.Run(c.key, func(t *testing.T) {
			a, err := spec.Parse("Acaifile", []byte(c.acaifile+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			steps := installSteps(depsCommands(a, c.project, nil), c.plan)
			for _, r := range steps {
				wantEqual(t, "stage", r.Stage, stageDeps)
				mountAt(t, r, ccMount) // every install compiles with acai's wrappers
			}
			c.want(t, steps)
		})
	}
	// [test] requirements install in a step of their own, after the dependencies.
	a, _ := spec.Parse("Acaifile", []byte("[test]\ncommand = \"pytest\"\nrequirements = \"test.txt\"\npackages = [\"pytest==8\"]\n"))
	test := installSteps([]command{testCommand(a)}, nil)
	one(t, test, "uv pip install -r test.txt pytest==8")
	wantEqualSlices(t, "test keys", test[0].Keys, []string{"test.requirements", "test.packages"})
	if slices.Contains(test[0].Args, slimMount+"/slim.py") {
		t.Errorf("the test stage's install is slimmed: the tests may need what slimming removes")
	}
}

// --call plan says what slimming does; the builder gets no package for it (slim.py
// strips in Python), only what compiles needs.
func TestSlimmingInThePlan(t *testing.T) {
	target := plan.Target{Arch: "x86_64", Python: "3.12"}
	pure := plan.Make(target, []plan.Package{{Name: "cowsay", Version: "6.1", Source: plan.SourceIndex, Wheel: "cowsay-6.1-py3-none-any.whl"}})
	wheel := plan.Make(target, []plan.Package{{Name: "numpy", Version: "2.4.6", Source: plan.SourceIndex, Wheel: "numpy-2.4.6-cp312-cp312-musllinux_1_2_x86_64.whl"}})
	compiles := plan.Make(target, []plan.Package{{Name: "pyyaml", Version: "6.0.3", Source: plan.SourceIndex}})
	for _, c := range []struct {
		acaifile string
		plan     *plan.Plan
		want     string // the builder's packages
		text     string
	}{
		{"", pure, "", "static archives removed\n"},
		{"", wheel, "", "; shared objects stripped of their symbol tables and debug information"},
		{"", compiles, "build-base linux-headers yaml-dev", "; shared objects stripped"},
		{"[runtime]\nslim = false", wheel, "", "off ([runtime] slim = false)"},
		{"[runtime]\nkeep = [\"numpy/tests\"]", wheel, "", "; kept: numpy/tests"},
	} {
		a, err := spec.Parse("Acaifile", []byte("packages = [\"x\"]\n"+c.acaifile+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := plannedPackages(a, c.plan)
		wantEqual(t, c.acaifile+": builder packages", strings.Join(got, " "), c.want)
		wantContainsString(t, c.acaifile+": --call plan", slimmingText(a, c.plan)+"\n", c.text)
	}
}

func one(t *testing.T, steps []model.Run, name string) {
	t.Helper()
	if len(steps) != 1 || steps[0].Name != name {
		var names []string
		for _, s := range steps {
			names = append(names, s.Name)
		}
		t.Fatalf("steps %q, want one: %q", names, name)
	}
}

// wantArgs: the step's command line has want, in order, as consecutive arguments.
func wantArgs(t *testing.T, r model.Run, want ...string) {
	t.Helper()
	for i := 0; i+len(want) <= len(r.Args); i++ {
		if slices.Equal(r.Args[i:i+len(want)], want) {
			return
		}
	}
	t.Errorf("args %q do not have %q", r.Args, want)
}

func mountAt(t *testing.T, r model.Run, target string) model.Mount {
	t.Helper()
	for _, m := range r.Mounts {
		if m.Target == target {
			return m
		}
	}
	t.Fatalf("%s mounts nothing at %s", r.ProgressName(), target)
	return model.Mount{}
}

func wantEqual[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func wantEqualSlices(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func wantContainsString(t *testing.T, what, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Errorf("%s = %q, want it to contain %q", what, got, want)
	}
}

// Where the install compiles nothing (each source build's wheel comes from its own
// stage), its builder gets no toolchain (plannedBuilder).
// A lock's source builds, and dependencies the plan did not resolve, compile in the
// install, whose builder keeps the toolchain.
func TestInstallBuilderNeedsTheToolchainOnlyWhereTheInstallCompiles(t *testing.T) {
	target := plan.Target{Arch: "x86_64", Python: "3.12"}
	compiles := plan.Make(target, []plan.Package{{Name: "pyyaml", Version: "6.0.3", Source: plan.SourceIndex}})
	namedOnly := *compiles
	namedOnly.NamedOnly = true
	reqs, _ := spec.Parse("Acaifile", []byte("requirements = \"requirements.txt\"\n"))
	lock, _ := spec.Parse("Acaifile", []byte("lock = \"pylock.toml\"\n"))
	for _, c := range []struct {
		name     string
		a        *spec.Acaifile
		cmds     []command
		plan     *plan.Plan
		compiles bool
		text     string
	}{
		{"requirements", reqs, depsCommands(reqs, Project{}, nil), compiles, false, "each in a stage of its own ([wheels]), whose wheel the install takes: pyyaml 6.0.3"},
		// Until the build completes the resolution with the wheels (complete.go).
		{"requirements, named only", reqs, depsCommands(reqs, Project{}, nil), &namedOnly, true, "pyyaml 6.0.3 (the build resolves their dependencies once they are built)"},
		{"a pylock.toml", lock, depsCommands(lock, Project{LockRequirements: []byte("pyyaml==6.0.3\n")}, nil), compiles, true, "in the install: pyyaml 6.0.3"},
	} {
		conv := &converter{bc: &dockerui.Client{}, spec: c.a, plan: c.plan} // a daemon without MergeOp: one install
		wantEqual(t, c.name+": the install compiles", conv.installsCompile(c.cmds), c.compiles)
		wantContainsString(t, c.name+": --call plan", conv.compilingText(c.cmds), c.text)
	}
}
