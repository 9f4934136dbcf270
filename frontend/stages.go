package frontend

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/acai-build/acai/model"
	"github.com/acai-build/acai/plan"
	"github.com/acai-build/acai/spec"
	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/pkg/errors"
)

// Stage names: the --target values, the prefixes of progress names, and the names
// --no-cache-filter and --build-context take.
const (
	stageBuilder = "builder"
	stageResolve = "resolve"
	stageDeps    = "deps"
	stageScan    = "scan"
	stageRunner  = "runner"
	stageTest    = "test"
	stageWheels  = "wheels"
)

// ToolchainPackages turn the base image into the publishable ACAI builder (--target
// builder), and into the builder of a build acai cannot resolve before it installs: a
// C/C++ toolchain for sdists, git and ssh for VCS requirements, scanelf for the
// runtime-library scan. A resolved build's builder gets only what its plan asks for.
var ToolchainPackages = slices.Concat(plan.Toolchain, vcsPackages, []string{"scanelf"})

// vcsPackages are what VCS requirements (git+https://, git+ssh://) need to be fetched.
var vcsPackages = []string{"git", "openssh-client"}

// Where build inputs are mounted in build steps; none of them reach an image.
const (
	requirementsMount = "/acai/requirements"
	runnerBaseMount   = "/acai/runner-base"
	scanOutputMount   = "/acai/scan"
	runtimeDepsFile   = "runtime-deps"
	uvMount           = "/acai/uv"
	projectMount      = "/acai/project"
	ccMount           = "/acai/cc"
)

//go:embed scan.sh
var scanScript string

// converter expands one Acaifile into LLB for one target platform.
type converter struct {
	bc     *dockerui.Client
	spec   *spec.Acaifile
	inputs map[string][]string // requirement file → every context path pip opens for it
	files  map[string][]byte   // the context files acai read: requirement files, locks
	// readFrom is the read of the context that holds each file in files (contextFiles)
	readFrom map[string]llb.State
	// appExcludes are what the app copy leaves out beyond the build files (spec.AppExcludes)
	appExcludes []string
	// project is what the lock's project (or pyproject.toml) adds to the Acaifile.
	project  Project
	uv       *stage // uv's binaries at its root, when a step runs uv (uvBinaries)
	smap     *llb.SourceMap
	platform ocispecs.Platform
	context  *llb.State

	// images are the build's base images, resolved once per platform even when two
	// stages (or converters) use one
	images *baseImages
	// plan is the resolution for this platform; nil when the build was not resolved
	// (the builder then gets the whole toolchain).
	plan *plan.Plan
	// resolution is the resolve steps' output, mounted into the installs.
	resolution *llb.State
	// wheels are the wheels the plan compiles, each built in a stage of its own
	// (wheelStages), by package name: what the installs mount.
	wheels map[string]llb.State
	// host is the build platform's converter, which runs a cross build's steps
	// (cross.go); nil for a build whose steps run on its own platform.
	host *converter
}

// stage is an LLB state together with the config it has as an image: a base image,
// or a stage acai built.
type stage struct {
	state  llb.State
	config *dockerspec.DockerOCIImage
}

// at attaches the Acaifile location of keys to a step, so that a failure is shown on
// the line that asked for the step.
func (c *converter) at(keys ...string) llb.ConstraintsOpt {
	var ranges []*pb.Range
	for _, k := range keys {
		if r, ok := c.spec.Source.Span(k); ok {
			ranges = append(ranges, pbRange(r))
		}
	}
	if c.smap == nil || len(ranges) == 0 {
		return llb.WithDescription(nil) // no location: a no-op
	}
	return c.smap.Location(ranges)
}

// opts are the constraints every step of a stage gets: its progress name, platform,
// source location and --no-cache.
func (c *converter) opts(stageName, name string, keys ...string) []llb.ConstraintsOpt {
	o := []llb.ConstraintsOpt{
		llb.WithCustomName("[" + stageName + "] " + name),
		llb.Platform(c.platform),
		c.at(keys...),
	}
	if c.bc.IsNoCache(stageName) {
		o = append(o, llb.IgnoreCache)
	}
	return o
}

// layer is opts for a step that adds a layer to s's image. Its progress name is also the
// layer's image history entry, so that `docker history` reads like the build progress.
func (c *converter) layer(s *stage, stageName, name string, keys ...string) []llb.ConstraintsOpt {
	c.history(s, "["+stageName+"] "+name)
	return c.opts(stageName, name, keys...)
}

// history records a layer of s's image by the progress name of the step that makes it.
func (c *converter) history(s *stage, progressName string) {
	s.config.History = append(s.config.History, ocispecs.History{CreatedBy: progressName, Comment: "acai"})
}

func runOpts(cs []llb.ConstraintsOpt, more ...llb.RunOption) []llb.RunOption {
	out := make([]llb.RunOption, 0, len(cs)+len(more))
	for _, c := range cs {
		out = append(out, c)
	}
	return append(out, more...)
}

// baseImage resolves ref once per platform. A named build context of the same name
// (--build-context python:3.12-alpine3.24=docker-image://mirror/...) replaces it, as
// it replaces a FROM image in a Dockerfile.
func (c *converter) baseImage(ctx context.Context, stageName, ref string, keys ...string) (*stage, error) {
	st, err := c.images.get(platforms.FormatAll(platforms.Normalize(c.platform)), ref, func() (*stage, error) {
		return c.loadImage(ctx, stageName, ref, keys...)
	})
	if err != nil && ref == c.spec.BaseImage() {
		err = c.spec.BaseImageError(err) // a version acai's table does not list: say what was tried
	}
	return st, err
}

// fromNamedContext loads --build-context NAME=... when the user gave one (nil if not).
func (c *converter) fromNamedContext(ctx context.Context, name string) (*stage, error) {
	nc, err := c.bc.NamedContext(name, dockerui.ContextOpt{Platform: &c.platform, ResolveMode: c.bc.ImageResolveMode.String()})
	if err != nil || nc == nil {
		return nil, err
	}
	st, cfg, err := nc.Load(ctx)
	if err != nil {
		return nil, err
	}
	return &stage{state: *st, config: orEmptyConfig(cfg, c.platform)}, nil
}

func (c *converter) loadImage(ctx context.Context, stageName, ref string, keys ...string) (*stage, error) {
	if img, err := c.fromNamedContext(ctx, ref); err != nil || img != nil {
		return img, err
	}
	resolveMode := c.bc.ImageResolveMode.String()
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return nil, errors.Wrapf(err, "invalid image reference %q", ref)
	}
	named = reference.TagNameOnly(named)
	_, dgst, dt, err := c.bc.GatewayClient().ResolveImageConfig(ctx, named.String(), sourceresolver.Opt{
		LogName:  fmt.Sprintf("[%s] load metadata for %s", stageName, ref),
		ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &c.platform, ResolveMode: resolveMode},
	})
	if err != nil {
		return nil, err
	}
	var cfg dockerspec.DockerOCIImage
	if err := json.Unmarshal(dt, &cfg); err != nil {
		return nil, errors.Wrapf(err, "image config of %s", ref)
	}
	if dgst != "" {
		if d, err := reference.WithDigest(named, dgst); err == nil {
			named = d
		}
	}
	name := "[" + stageName + "] FROM " + ref
	if ref == c.spec.BaseImage() && c.spec.PythonFrom != "" && c.spec.PythonFrom != spec.PythonFromDefault {
		name += " (python from " + c.spec.PythonFrom + ")" // the progress says why this Python
	}
	imgOpts := []llb.ImageOption{llb.Platform(c.platform), llb.WithCustomName(name), c.at(keys...)}
	if c.bc.IsNoCache(stageName) {
		imgOpts = append(imgOpts, llb.IgnoreCache)
	}
	st, err := llb.Image(named.String(), imgOpts...).WithImageConfig(dt)
	if err != nil {
		return nil, err
	}
	return &stage{state: st, config: &cfg}, nil
}

// builderStage is the ACAI image: the Python base with a C/C++ toolchain. A named build
// context "builder" or [build].image supplies a prebuilt one instead.
func (c *converter) builderStage(ctx context.Context) (*stage, error) {
	base, generated, err := c.builderBase(ctx)
	if err != nil || !generated {
		return base, err
	}
	return c.addBuildPackages(base, builderPackages(c.spec), ""), nil
}

// builderBase is the image the builder starts from: the named build context "builder"
// (generated is false: nothing is added to it), or [build].image, or the Python base.
func (c *converter) builderBase(ctx context.Context) (_ *stage, generated bool, _ error) {
	if prebuilt, err := c.fromNamedContext(ctx, stageBuilder); err != nil || prebuilt != nil {
		return prebuilt, false, err
	}
	img := builderImage(c.spec)
	base, err := c.baseImage(ctx, stageBuilder, img.Ref, img.Keys...)
	if err != nil {
		return nil, false, err
	}
	return &stage{state: base.state, config: cloneConfig(base.config)}, true, nil
}

// builderImage is the builder's base: [build].image (a prebuilt ACAI image), else the
// Python image.
func builderImage(a *spec.Acaifile) model.Image {
	if a.Build.Image != "" {
		return model.Image{Ref: a.Build.Image, Keys: []string{"build.image"}}
	}
	return model.Image{Ref: a.BaseImage(), Keys: []string{"python", "alpine"}}
}

// runnerImage is the runner's base: [runtime].image, else the Python image.
func runnerImage(a *spec.Acaifile) model.Image {
	return model.Image{Ref: a.RunnerImage(), Keys: []string{"runtime.image", "python", "alpine"}}
}

// addBuildPackages is b with packages added by apk (b itself when there are none);
// why, when set, ends the progress name.
func (c *converter) addBuildPackages(b *stage, packages []string, why string) *stage {
	if len(packages) == 0 {
		return b
	}
	out := &stage{state: b.state, config: cloneConfig(b.config)}
	step := buildPackagesStep(packages, why)
	c.history(out, step.ProgressName())
	out.state = c.run(out.state, step).Root()
	return out
}

// buildPackagesStep adds packages to the builder; why, when set, ends its progress name.
func buildPackagesStep(packages []string, why string) model.Run {
	name := "apk add --no-cache " + strings.Join(packages, " ")
	if why != "" {
		name += " (" + why + ")"
	}
	return model.Run{Stage: stageBuilder, Name: name, Keys: []string{"build.apk", "build.image"}, Args: append([]string{"apk", "add", "--no-cache"}, packages...)}
}

// builderPackages are the packages added to the builder's base when no plan says what
// the build needs: the toolchain on the Python base, or only [build].apk on a prebuilt
// ACAI image.
func builderPackages(a *spec.Acaifile) []string {
	if a.Build.Image != "" {
		return a.Build.APK
	}
	out := slices.Clone(ToolchainPackages)
	for _, pkg := range a.Build.APK {
		if !slices.Contains(out, pkg) {
			out = append(out, pkg)
		}
	}
	return out
}

// plannedPackages are what the builder's base gets for a plan: what the plan's source
// builds need (the toolchain aside on a prebuilt ACAI image, which has it), then
// [build].apk; and why, for the progress name.
func plannedPackages(a *spec.Acaifile, p *plan.Plan) ([]string, string) {
	var packages []string
	for _, pkg := range p.BuildAPK() {
		if a.Build.Image == "" || !slices.Contains(plan.Toolchain, pkg) {
			packages = append(packages, pkg)
		}
	}
	why := ""
	if len(p.SourceBuilds) > 0 {
		why = "to compile " + p.Describe()
	}
	for _, pkg := range a.Build.APK {
		if !slices.Contains(packages, pkg) {
			packages = append(packages, pkg)
		}
	}
	return packages, why
}

// requirementFiles is a scratch state holding only what pip opens for the requirement
// files, at their context paths: the files, what they include (-r, -c), the local
// projects and --find-links directories they name. The install depends on nothing else,
// so editing app code never re-runs it: the copies' cache keys are the checksums of
// these paths alone. A file acai read is copied from that read (solved already: the step
// need not wait for the build context's upload); local projects and --find-links
// directories from the build context.
// Files acai generated for the step (generated) are written beside them.
func (c *converter) requirementFiles(files []string, generated []model.File, key string) llb.State {
	var paths []string
	for _, f := range files {
		if in, ok := c.inputs[f]; ok {
			paths = append(paths, in...)
		} else {
			paths = append(paths, f) // not read: the copy reports it missing
		}
	}
	st := llb.Scratch().Platform(c.platform)
	for _, f := range outermost(paths) {
		from, read := c.readFrom[f]
		if !read {
			from = *c.context
		}
		st = st.File(llb.Copy(from, f, path.Join("/", f), &llb.CopyInfo{CreateDestPath: true}),
			c.opts(stageDeps, "copy "+f, key)...)
	}
	for _, g := range generated {
		st = st.File(llb.Mkfile(path.Join("/", g.Path), os.FileMode(g.FileMode()), g.Data), c.opts(stageDeps, "write "+g.Path, key)...)
	}
	return st
}

// outermost sorts paths and drops those inside another one (libs/pkg when "." is there),
// which the other's copy brings already.
func outermost(paths []string) []string {
	slices.Sort(paths)
	var out []string
	for _, p := range slices.Compact(paths) {
		if len(out) > 0 {
			last := out[len(out)-1]
			if last == "." || strings.HasPrefix(p, last+"/") {
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

// installed is the dependency directory, installed on the builder.
type installed struct {
	state llb.State // the builder with the dependencies: what the scan, the SBOM and the test stage read
	// layers, when set, are the dependency directory as layers to merge into the
	// runner, named by names; else the runner copies it from state.
	layers []llb.State
	names  []string
	single string // why there is one layer, for the copy's progress name
}

// depsStage installs the dependencies on the builder: one layer per package when the
// build can (packageLayersOff), else one install of everything. Its only inputs are
// the requirement files and the resolution.
func (c *converter) depsStage(builder *stage, cmds []command) installed {
	why := c.packageLayersOff(cmds)
	if why == "" {
		st, layers, names := c.depsLayers(builder.state)
		for _, cmd := range projectInstalls(cmds) {
			top := c.install(st, installSteps([]command{cmd}, c.plan))
			layers = append(layers, llb.Diff(st, top, c.opts(stageDeps, "layer: "+cmd.what)...))
			names = append(names, cmd.what)
			st = top
		}
		return installed{state: st, layers: layers, names: names}
	}
	st := builder.state
	if c.spec.Runtime.Layout == spec.LayoutVenv {
		st = c.venvSkeleton(st)
	}
	return installed{state: c.install(st, installSteps(cmds, c.plan)), single: why}
}

// runnerSteps are the steps that make the runner's base the runner, before the
// dependencies and the app go in: the runtime packages (apk, what the plan's source
// builds need at run time, and with runtime.auto_deps the so: libraries the scan finds)
// and the app user; scan, when runtime.auto_deps is on, is the step the packages' step
// reads. cross, when set, is the target of a cross build: the steps run on the build
// platform, into the target's root.
func runnerSteps(a *spec.Acaifile, p *plan.Plan, cross *plan.Target) (scan *model.Run, steps []model.Run) {
	runtime := slices.Clone(a.APK)
	if p != nil {
		for _, pkg := range p.RuntimeAPK() {
			if !slices.Contains(runtime, pkg) {
				runtime = append(runtime, pkg)
			}
		}
	}
	if a.AutoDepsEnabled() {
		scan = &model.Run{Stage: stageScan, Name: "scanelf: shared libraries the installed packages need", Keys: []string{"runtime.auto_deps"},
			Args:   model.Script("acai-scan", scanScript, a.DepsDir(), runnerBaseMount, path.Join(scanOutputMount, runtimeDepsFile)),
			Mounts: []model.Mount{{Target: runnerBaseMount, Stage: model.StageRunnerBase, Readonly: true}},
			// Read by nothing, as in the one install: package layers' steps do not mount it
			// (their inputs are their packages'), so the scan puts the resolve steps into
			// the graph that --export-cache mode=max exports.
			MountsResolution: true,
			Output:           scanOutputMount}
	}
	if scan != nil || len(runtime) > 0 {
		what := slices.Clone(runtime)
		apk := model.Run{Stage: stageRunner, Keys: []string{"apk", "runtime.auto_deps"}, Args: model.Script("acai-apk", apkAddScript, runtime...)}
		if scan != nil {
			what = append(what, "(+ so: libraries found by [scan])")
			apk.Mounts = []model.Mount{{Target: scanOutputMount, Stage: stageScan, Source: scanOutputMount, Readonly: true}}
		}
		apk.Name = "apk add --no-cache " + strings.Join(what, " ")
		if cross != nil {
			apk.Name = "apk add --root " + targetMount + " --arch " + cross.Arch + " --no-scripts --no-cache " + strings.Join(what, " ")
		}
		steps = append(steps, apk)
	}
	if u := a.UserToCreate(); u != "" {
		steps = append(steps, model.Run{Stage: stageRunner, Name: fmt.Sprintf("add user %s (uid %d)", u, spec.DefaultUID), Keys: []string{"user"},
			Args: model.Script("acai-user", addUserScript, u, fmt.Sprint(spec.DefaultUID))})
	}
	if cross != nil {
		// The build platform's apk and shell edit the target's root ($ACAI_ROOT), with
		// its repositories and keys, for its architecture ($ACAI_ARCH).
		for i := range steps {
			steps[i].Platform, steps[i].Root = model.OnBuild, targetMount
			steps[i].Env = [][2]string{{"ACAI_ROOT", targetMount}, {"ACAI_ARCH", cross.Arch}}
		}
		if scan != nil {
			scan.Platform = model.OnBuild
		}
	}
	return scan, steps
}

// runnerStage is the slim image: runner base + runtime packages + user + installed
// dependencies + app. Nothing from the builder but the dependency directory.
func (c *converter) runnerStage(ctx context.Context, deps installed) (*stage, error) {
	a := c.spec
	img := runnerImage(a)
	base, err := c.baseImage(ctx, stageRunner, img.Ref, img.Keys...)
	if err != nil {
		return nil, err
	}
	cfg, err := c.runnerConfig(base.config)
	if err != nil {
		return nil, err
	}
	r := &stage{state: base.state, config: cfg}
	var cross *plan.Target
	if c.host != nil {
		t, _ := plan.TargetFor(c.platform.Architecture, a.Python)
		cross = &t
	}
	scan, steps := runnerSteps(a, c.plan, cross)
	stages := map[string]llb.State{model.StageRunnerBase: base.state}
	if scan != nil {
		stages[stageScan] = c.on(scan.Platform).output(deps.state, *scan, stages)
	}
	for _, s := range steps {
		if r.state, err = c.runnerLayer(ctx, r, s, stages); err != nil {
			return nil, err
		}
	}
	c.addDepsAndApp(r, deps)
	r.state = r.state.Dir(a.Workdir)
	return r, nil
}

// app is the workdir and the app copied into it, on top of st.
func (c *converter) app(r *stage, st llb.State) llb.State {
	a := c.spec
	st = st.File(llb.Mkdir(a.Workdir, 0o755, llb.WithParents(true)), c.layer(r, stageRunner, "mkdir "+a.Workdir, "workdir")...)
	return c.copyLayer(r, st, appCopy(a, a.Source.Filename, c.appExcludes), nil)
}

// addDepsAndApp puts the installed dependencies and the app into the runner. With
// package layers, the runner is a merge of its base, those layers and the app, made on
// nothing: a dependency change leaves the app's layers as they were, and an app change
// the dependencies'. Else the dependency directory is copied in, then the app.
func (c *converter) addDepsAndApp(r *stage, deps installed) {
	if deps.layers == nil {
		r.state = c.copyLayer(r, r.state, depsCopy(c.spec, deps.single), map[string]llb.State{stageDeps: deps.state})
		r.state = c.app(r, r.state)
		return
	}
	for _, n := range deps.names {
		r.config.History = append(r.config.History, ocispecs.History{CreatedBy: "[" + stageDeps + "] " + n, Comment: "acai"})
	}
	app := c.app(r, llb.Scratch().Platform(c.platform))
	r.state = llb.Merge(slices.Concat([]llb.State{r.state}, deps.layers, []llb.State{app}),
		c.opts(stageRunner, fmt.Sprintf("merge %d package layers and the app", len(deps.layers)), "requirements", "packages")...)
}

// depsCopy copies the installed dependency directory from the dependency stage into the
// runner, in one layer; single says why one (packageLayersOff).
func depsCopy(a *spec.Acaifile, single string) model.Copy {
	name := "copy installed packages " + a.DepsDir()
	if single != nothingToInstall && single != "" {
		name += " (one layer: " + single + ")"
	}
	return model.Copy{Stage: stageRunner, Name: name, Keys: []string{"requirements", "packages"}, From: stageDeps, Src: a.DepsDir(), Dest: a.DepsDir()}
}

// appCopy copies the app into the workdir: the build context, or only the `app` paths,
// without the build's own files (acaifile, its ignore file, the requirement files: they
// describe the build, they are not the app) and excludes, what never belongs in an image
// (.git, virtual environments, caches, ...), which also keeps those paths out of the
// copy's cache key.
func appCopy(a *spec.Acaifile, acaifile string, excludes []string) model.Copy {
	return model.Copy{Stage: stageRunner, Name: "copy app " + describeApp(a.App) + " to " + a.Workdir, Keys: []string{"app"},
		Src: "/", Dest: a.Workdir, Include: a.App,
		Exclude: slices.Concat([]string{acaifile, acaifile + ".dockerignore"}, a.Requirements, a.Test.Requirements, excludes)}
}

func describeApp(app []string) string {
	if len(app) == 0 {
		return "(build context)"
	}
	return strings.Join(app, " ")
}

// testStage is the runner with the test requirements installed, running [test].command;
// the build fails when the command fails.
func (c *converter) testStage(deps installed, runner *stage) *stage {
	a := c.spec
	testDeps := deps.state
	if len(a.Test.Requirements)+len(a.Test.Packages) > 0 {
		testDeps = c.install(deps.state, installSteps(c.withOwnInstallOptions([]command{testCommand(a)}), c.plan))
	}
	t := &stage{state: runner.state, config: cloneConfig(runner.config)}
	t.state = c.copyLayer(t, t.state, testDepsCopy(a), map[string]llb.State{stageTestDeps: testDeps})
	t.state = withConfigEnv(t.state, t.config).Dir(a.Workdir).User(t.config.Config.User)
	step := testCommandStep(a)
	c.history(t, step.ProgressName())
	t.state = c.run(t.state, step).Root()
	return t
}

// stageTestDeps is the dependency stage with the test requirements installed.
const stageTestDeps = "test-deps"

// testDepsCopy copies the dependencies with the test requirements into the test stage.
func testDepsCopy(a *spec.Acaifile) model.Copy {
	return model.Copy{Stage: stageTest, Name: "copy installed packages with test requirements", Keys: []string{"test.requirements", "test.packages"},
		From: stageTestDeps, Src: a.DepsDir(), Dest: a.DepsDir()}
}

// testCommandStep runs [test].command in the test stage, as the runner's user in its
// workdir.
func testCommandStep(a *spec.Acaifile) model.Run {
	cmd := a.Test.Command.Argv()
	return model.Run{Stage: stageTest, Name: strings.Join(cmd, " "), Keys: []string{"test.command"}, Args: cmd}
}

// apkAddScript adds the packages given as arguments plus the so: names found by the
// scan (when mounted); it runs apk only when there is something to add.
const apkAddScript = `set -eu
if [ -f ` + scanOutputMount + `/` + runtimeDepsFile + ` ]; then
  set -- "$@" $(cat ` + scanOutputMount + `/` + runtimeDepsFile + `)
fi
if [ $# -eq 0 ]; then echo "no runtime packages needed"; exit 0; fi
if [ -n "${ACAI_ROOT:-}" ]; then # a cross build: the target's root, with its repositories and keys
  echo "apk add --root $ACAI_ROOT --arch $ACAI_ARCH --no-scripts --no-cache $*"
  exec apk add --root "$ACAI_ROOT" --arch "$ACAI_ARCH" --no-scripts --no-cache "$@"
fi
echo "apk add --no-cache $*"
exec apk add --no-cache "$@"`

// addUserScript appends the app user to /etc/passwd and /etc/group: it needs no
// package and works the same on every base (busybox adduser's flags are not Debian's),
// and on a cross build's target root ($ACAI_ROOT) from the build platform.
const addUserScript = `set -eu
name=$1 id=$2 root=${ACAI_ROOT:-}
grep -q "^$name:" "$root/etc/group" || echo "$name:x:$id:" >> "$root/etc/group"
grep -q "^$name:" "$root/etc/passwd" || echo "$name:x:$id:$id::/nonexistent:/sbin/nologin" >> "$root/etc/passwd"`
