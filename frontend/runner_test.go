package frontend

import (
	"strings"
	"testing"

	"github.com/acai-build/acai/model"
	"github.com/acai-build/acai/plan"
)

var psycopg2 = &plan.Plan{SourceBuilds: []plan.SourceBuild{{Package: plan.Package{Name: "psycopg2"}, Needs: plan.Needs{Runtime: []string{"libpq"}}}}}
var arm64 = &plan.Target{Arch: "aarch64", Python: "3.12"}

// The runner's steps of the build model, as an Acaifile's keys and the plan make them:
// what the runner base gets before the dependencies and the app (runtime packages, the
// scan they read, the user), and where each runs. No daemon: the LLB and the ejected
// Dockerfile are emitted from these steps.
var runnerStepRows = []struct {
	key, acaifile string
	plan          *plan.Plan
	cross         *plan.Target
	want          func(t *testing.T, scan *model.Run, steps []model.Run)
}{
	{key: "(defaults: runtime.auto_deps on, user appuser)", want: func(t *testing.T, scan *model.Run, s []model.Run) {
		names(t, s, "apk add --no-cache (+ so: libraries found by [scan])", "add user appuser (uid 10001)")
		if scan == nil {
			t.Fatal("no scan with runtime.auto_deps on")
		}
		wantEqual(t, "scan's progress", scan.ProgressName(), "[scan] scanelf: shared libraries the installed packages need")
		wantScript(t, *scan, "acai-scan", "/opt/venv", runnerBaseMount, scanOutputMount+"/"+runtimeDepsFile)
		wantEqual(t, "scan's output", scan.Output, scanOutputMount)
		wantEqual(t, "what the scan compares with", mountAt(t, *scan, runnerBaseMount).Stage, model.StageRunnerBase)
		wantEqual(t, "the scan mounts the resolution (for mode=max)", scan.MountsResolution, true)
		wantEqual(t, "the apk step reads the scan", mountAt(t, s[0], scanOutputMount).Stage, stageScan)
		wantScript(t, s[0], "acai-apk")
		wantScript(t, s[1], "acai-user", "appuser", "10001")
		for _, r := range append(s, *scan) {
			wantEqual(t, r.Name+": platform", r.Platform, model.OnTarget)
			wantEqual(t, r.Name+": ssh", r.SSH, false)
		}
	}},
	{key: "apk", acaifile: `apk = ["libstdc++", "tzdata"]`, want: func(t *testing.T, _ *model.Run, s []model.Run) {
		wantEqual(t, "name", s[0].Name, "apk add --no-cache libstdc++ tzdata (+ so: libraries found by [scan])")
		wantScript(t, s[0], "acai-apk", "libstdc++", "tzdata")
		wantEqualSlices(t, "keys", s[0].Keys, []string{"apk", "runtime.auto_deps"})
	}},
	{key: "runtime.auto_deps = false", acaifile: "[runtime]\nauto_deps = false", want: func(t *testing.T, scan *model.Run, s []model.Run) {
		if scan != nil {
			t.Error("a scan with runtime.auto_deps off")
		}
		names(t, s, "add user appuser (uid 10001)")
	}},
	{key: "runtime.auto_deps = false, apk", acaifile: "apk = [\"tzdata\"]\n[runtime]\nauto_deps = false", want: func(t *testing.T, _ *model.Run, s []model.Run) {
		names(t, s, "apk add --no-cache tzdata", "add user appuser (uid 10001)")
		if len(s[0].Mounts) != 0 {
			t.Errorf("the apk step mounts %+v without a scan", s[0].Mounts)
		}
	}},
	{key: "the plan's runtime packages (a source build's)", acaifile: "apk = [\"tzdata\"]\n[runtime]\nauto_deps = false", plan: psycopg2,
		want: func(t *testing.T, _ *model.Run, s []model.Run) {
			wantScript(t, s[0], "acai-apk", "tzdata", "libpq")
		}},
	{key: "user = root", acaifile: `user = "root"`, want: func(t *testing.T, _ *model.Run, s []model.Run) {
		names(t, s, "apk add --no-cache (+ so: libraries found by [scan])")
	}},
	{key: "user = \"1000\" (numeric: no account)", acaifile: `user = "1000"`, want: func(t *testing.T, _ *model.Run, s []model.Run) {
		names(t, s, "apk add --no-cache (+ so: libraries found by [scan])")
	}},
	{key: "user = \"svc\"", acaifile: `user = "svc"`, want: func(t *testing.T, _ *model.Run, s []model.Run) {
		wantScript(t, s[1], "acai-user", "svc", "10001")
	}},
	{key: "runtime.layout = lambda (what the scan reads)", acaifile: "[runtime]\nlayout = \"lambda\"", want: func(t *testing.T, scan *model.Run, _ []model.Run) {
		wantScript(t, *scan, "acai-scan", "/var/task", runnerBaseMount, scanOutputMount+"/"+runtimeDepsFile)
	}},
	{key: "a cross build (--platform linux/arm64 on amd64)", cross: arm64, want: func(t *testing.T, scan *model.Run, s []model.Run) {
		names(t, s, "apk add --root /acai/target --arch aarch64 --no-scripts --no-cache (+ so: libraries found by [scan])", "add user appuser (uid 10001)")
		for _, r := range s {
			wantEqual(t, r.Name+": platform", r.Platform, model.OnBuild)
			wantEqual(t, r.Name+": the target's root", r.Root, targetMount)
			if len(r.Env) != 2 || r.Env[0] != [2]string{"ACAI_ROOT", targetMount} || r.Env[1] != [2]string{"ACAI_ARCH", "aarch64"} {
				t.Errorf("%s: env %q", r.Name, r.Env)
			}
		}
		wantEqual(t, "scan's platform", scan.Platform, model.OnBuild)
		wantEqual(t, "scan's root (it changes no stage)", scan.Root, "")
	}},
}

// TestRunnerStepsFollowTheAcaifile runs runnerStepRows.
func TestRunnerStepsFollowTheAcaifile(t *testing.T) {
	for _, c := range runnerStepRows {
		t.Run(c.key, func(t *testing.T) {
			scan, steps := runnerSteps(parse(t, c.acaifile), c.plan, c.cross)
			c.want(t, scan, steps)
		})
	}
}

func names(t *testing.T, steps []model.Run, want ...string) {
	t.Helper()
	var got []string
	for _, s := range steps {
		got = append(got, s.Name)
	}
	wantEqualSlices(t, "steps", got, want)
}

// wantScript: the step runs acai's script name with args.
func wantScript(t *testing.T, r model.Run, name string, args ...string) {
	t.Helper()
	got, _, gotArgs, ok := model.SplitScript(r.Args)
	if !ok {
		t.Fatalf("%s runs %q, not a script of acai's", r.Name, r.Args)
	}
	wantEqual(t, r.Name+": script", got, name)
	wantEqual(t, r.Name+": script's arguments", strings.Join(gotArgs, " "), strings.Join(args, " "))
}

// The runner's copies: the dependency directory from the dependency stage, and the app
// from the build context into the workdir, without the build's own files.
var runnerCopyRows = []struct {
	key, acaifile string
	want          func(t *testing.T, deps, app model.Copy)
}{
	{key: "(defaults)", acaifile: `requirements = "requirements.txt"`, want: func(t *testing.T, deps, app model.Copy) {
		wantEqual(t, "deps from", deps.From, stageDeps)
		wantEqual(t, "deps", deps.Src+" → "+deps.Dest, "/opt/venv → /opt/venv")
		wantEqual(t, "app from (the build context)", app.From, "")
		wantEqual(t, "app", app.Src+" → "+app.Dest, "/ → /app")
		wantEqual(t, "app's progress", app.ProgressName(), "[runner] copy app (build context) to /app")
		wantEqualSlices(t, "app's first excludes", app.Exclude[:3], []string{"Acaifile", "Acaifile.dockerignore", "requirements.txt"})
		wantEqual(t, "app excludes .git", strings.Contains(strings.Join(app.Exclude, " "), "**/.git"), true)
	}},
	{key: "app, workdir", acaifile: "app = [\"src/\", \"main.py\"]\nworkdir = \"/srv\"", want: func(t *testing.T, _, app model.Copy) {
		wantEqualSlices(t, "includes", app.Include, []string{"src/", "main.py"})
		wantEqual(t, "dest", app.Dest, "/srv")
	}},
	{key: "runtime.layout = lambda", acaifile: "[runtime]\nlayout = \"lambda\"", want: func(t *testing.T, deps, app model.Copy) {
		wantEqual(t, "deps", deps.Src+" → "+deps.Dest, "/var/task → /var/task")
		wantEqual(t, "app's dest", app.Dest, "/var/task")
	}},
	{key: "test.requirements (build files, not the app)", acaifile: "[test]\nrequirements = \"test.txt\"\ncommand = [\"pytest\"]", want: func(t *testing.T, _, app model.Copy) {
		wantEqualSlices(t, "app's first excludes", app.Exclude[:3], []string{"Acaifile", "Acaifile.dockerignore", "test.txt"})
	}},
}

// TestRunnerCopiesFollowTheAcaifile runs runnerCopyRows.
func TestRunnerCopiesFollowTheAcaifile(t *testing.T) {
	for _, c := range runnerCopyRows {
		t.Run(c.key, func(t *testing.T) {
			a := parse(t, c.acaifile)
			c.want(t, depsCopy(a, "why"), appCopy(a, a.Source.Filename, a.AppExcludes(nil, nil)))
		})
	}
}
