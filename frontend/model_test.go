package frontend

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/acai-build/acai/model"
	"github.com/acai-build/acai/plan"
	"github.com/acai-build/acai/spec"
)

// The stages' base images, as the Acaifile chooses them (builderImage, runnerImage: what
// the LLB loads, the prefetch resolves and eject writes in FROM).
var baseImageRows = []struct {
	key, acaifile           string
	builder, runner         string
	builderKeys, runnerKeys []string
}{
	{key: "python, alpine", acaifile: "python = \"3.11\"\nalpine = \"3.20\"", builder: "python:3.11-alpine3.20", runner: "python:3.11-alpine3.20",
		builderKeys: []string{"python", "alpine"}, runnerKeys: []string{"runtime.image", "python", "alpine"}},
	{key: "build.image (a prebuilt ACAI image)", acaifile: "python = \"3.12\"\n[build]\nimage = \"registry.example/acai:3.12\"",
		builder: "registry.example/acai:3.12", runner: "python:3.12-alpine3.24", builderKeys: []string{"build.image"}, runnerKeys: []string{"runtime.image", "python", "alpine"}},
	{key: "runtime.image", acaifile: "python = \"3.12\"\n[runtime]\nimage = \"registry.example/python:3.12-alpine\"",
		builder: "python:3.12-alpine3.24", runner: "registry.example/python:3.12-alpine", builderKeys: []string{"python", "alpine"}, runnerKeys: []string{"runtime.image", "python", "alpine"}},
}

func TestBaseImagesFollowTheAcaifile(t *testing.T) {
	for _, c := range baseImageRows {
		t.Run(c.key, func(t *testing.T) {
			a := parse(t, c.acaifile)
			b, r := builderImage(a), runnerImage(a)
			wantEqual(t, "builder", b.Ref, c.builder)
			wantEqual(t, "runner", r.Ref, c.runner)
			wantEqualSlices(t, "builder's keys", b.Keys, c.builderKeys)
			wantEqualSlices(t, "runner's keys", r.Keys, c.runnerKeys)
		})
	}
}

// The builder's packages: without a plan (--target builder, a build acai cannot resolve
// ahead) the toolchain and [build].apk, [build].apk alone on a prebuilt image; with a
// plan, what its source builds need.
var builderPackageRows = []struct {
	key, acaifile string
	plan          *plan.Plan
	want          []string
}{
	{key: "build.apk (no plan: the whole toolchain)", acaifile: "[build]\napk = [\"yaml-dev\", \"git\"]",
		want: []string{"build-base", "linux-headers", "git", "openssh-client", "scanelf", "yaml-dev"}},
	{key: "build.apk, build.image (the toolchain is in the image)", acaifile: "[build]\nimage = \"registry.example/acai:3.12\"\napk = [\"yaml-dev\"]",
		want: []string{"yaml-dev"}},
	{key: "build.apk with a plan that compiles psycopg2", acaifile: "[build]\napk = [\"yaml-dev\"]",
		plan: &plan.Plan{Toolchain: plan.Toolchain, SourceBuilds: []plan.SourceBuild{{Package: plan.Package{Name: "psycopg2"}, Needs: plan.Needs{Build: []string{"postgresql-dev"}}}}},
		want: []string{"build-base", "linux-headers", "postgresql-dev", "yaml-dev"}},
}

func TestBuilderPackagesFollowTheAcaifile(t *testing.T) {
	for _, c := range builderPackageRows {
		t.Run(c.key, func(t *testing.T) {
			a := parse(t, c.acaifile)
			packages := builderPackages(a)
			if c.plan != nil {
				packages, _ = plannedPackages(a, c.plan)
			}
			wantEqualSlices(t, "packages", packages, c.want)
			step := buildPackagesStep(packages, "")
			wantEqual(t, "progress", step.ProgressName(), "[builder] apk add --no-cache "+strings.Join(c.want, " "))
			wantEqualSlices(t, "keys", step.Keys, []string{"build.apk", "build.image"})
		})
	}
}

// The test stage: the dependencies with the test requirements, then [test].command, as
// the runner's user in its workdir.
var testStageRows = []struct {
	key, acaifile string
	want          func(t *testing.T, copy model.Copy, command model.Run)
}{
	{key: "test.command", acaifile: "[test]\ncommand = [\"python\", \"-m\", \"pytest\", \"-q\"]", want: func(t *testing.T, cp model.Copy, cmd model.Run) {
		wantEqual(t, "progress", cmd.ProgressName(), "[test] python -m pytest -q")
		wantEqualSlices(t, "argv", cmd.Args, []string{"python", "-m", "pytest", "-q"})
		wantEqualSlices(t, "keys", cmd.Keys, []string{"test.command"})
		wantEqual(t, "the installed packages with the test requirements", cp.From+" "+cp.Src, stageTestDeps+" /opt/venv")
	}},
	{key: "test.command as a string (shell form)", acaifile: "[test]\ncommand = \"pytest -q && echo ok\"", want: func(t *testing.T, _ model.Copy, cmd model.Run) {
		wantEqualSlices(t, "argv", cmd.Args, []string{"/bin/sh", "-c", "pytest -q && echo ok"})
	}},
}

func TestTestStageFollowsTheAcaifile(t *testing.T) {
	for _, c := range testStageRows {
		t.Run(c.key, func(t *testing.T) {
			a := parse(t, c.acaifile)
			c.want(t, testDepsCopy(a), testCommandStep(a))
		})
	}
}

// testedElsewhere are the keys whose effect on the model a test of its own checks, not a
// row of the tables above: the test's name.
var testedElsewhere = map[string]string{
	"build.uv_image":     "TestEjectFetchesUVFromTheIndex",
	"build.cross":        "TestCrossInstalls",
	"runtime.layers":     "TestSingleDependencyLayerSaysWhy",
	"runtime.max_layers": "TestLayerGroupsChangeOneLayerPerPackageChange",
}

// Every key of the Acaifile (spec.Keys) has its effect on the build model checked without
// a daemon: it is named by a row of one of the tables of the model's tests, or by
// testedElsewhere. A new key fails this test until a row shows what it does.
func TestModelTestsCoverEveryKey(t *testing.T) {
	rows := rowKeys(installStepRows, runnerConfigRows, runnerStepRows, runnerCopyRows, baseImageRows, builderPackageRows, testStageRows)
	var sources strings.Builder
	files, _ := filepath.Glob("*_test.go")
	for _, f := range files {
		dt, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources.Write(dt)
	}
	keys := spec.Keys()
	if len(keys) < 40 {
		t.Fatalf("spec.Keys() lists %d keys: %q", len(keys), keys)
	}
	for _, k := range keys {
		named := regexp.MustCompile(`(^|[^a-z_.])` + regexp.QuoteMeta(k) + `($|[^a-z_])`)
		if slices.ContainsFunc(rows, named.MatchString) {
			continue
		}
		if test, ok := testedElsewhere[k]; ok {
			if !strings.Contains(sources.String(), "func "+test+"(t *testing.T)") {
				t.Errorf("%s: testedElsewhere names %s, which is not a test of this package", k, test)
			}
			continue
		}
		t.Errorf("no test of the model shows what %s does: add a row to a table of model_test.go, steps_test.go, runner_test.go or image_test.go", k)
	}
}

// rowKeys are the key fields of the rows of tables: slices of structs with a key field.
func rowKeys(tables ...any) []string {
	var out []string
	for _, table := range tables {
		v := reflect.ValueOf(table)
		for i := 0; i < v.Len(); i++ {
			out = append(out, v.Index(i).FieldByName("key").String())
		}
	}
	return out
}
