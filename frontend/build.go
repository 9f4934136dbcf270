// Package frontend turns an Acaifile into LLB and an image config: the acai BuildKit
// frontend. Build is its client.BuildFunc.
package frontend

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/acai-build/acai/model"
	"github.com/acai-build/acai/plan"
	"github.com/acai-build/acai/spec"
	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests"
	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/frontend/subrequests/targets"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Target is a --target the frontend offers.
type Target struct {
	Name, Description string
	Default           bool
}

// Targets are the stages a user can build, default first.
var Targets = []Target{
	{Name: stageRunner, Description: "the slim runtime image: runner base + runtime packages + installed dependencies + app", Default: true},
	{Name: stageBuilder, Description: "the ACAI builder image (Python + C/C++ toolchain), publishable and usable as [build].image"},
	{Name: stageTest, Description: "the runner plus [test] requirements, running [test].command"},
	{Name: stageWheels, Description: "the wheels acai compiles from source distributions, each built once (--output type=local,dest=wheelhouse)"},
}

// Build is the frontend's entry point, run by BuildKit through the gateway.
func Build(ctx context.Context, c client.Client) (*client.Result, error) {
	bc, err := dockerui.NewClient(c)
	if err != nil {
		return nil, err
	}
	src, err := bc.ReadEntrypoint(ctx, "toml")
	if err != nil {
		return nil, err
	}
	target := bc.Target
	if target == "" {
		target = stageRunner
	}
	images := newBaseImages()
	a, files, findings, parseErr := check(ctx, bc, src, func(a *spec.Acaifile) {
		switch bc.BuildOpts().Opts["requestid"] {
		case "", planRequest.Name, lint.SubrequestLintDefinition.Name:
			images.prefetch(ctx, bc, src, a, target)
		}
	})
	if res, ok, err := answerSubrequest(ctx, bc, src, target, a, files, findings, parseErr, images); err != nil || ok {
		return res, err
	}
	if parseErr != nil {
		return nil, withSource(parseErr, src.SourceMap)
	}
	if !isTarget(target) {
		return nil, fmt.Errorf("unknown target %q: an Acaifile builds %s", target, targetNames())
	}
	if target == stageTest && !a.Test.Command.IsSet() {
		return nil, withSource(fmt.Errorf("--target test needs a [test] table with a command"), src.SourceMap)
	}
	// A missing included file or local path first: its error shows the requirement
	// file's line, which says more than the Acaifile's.
	if err := files.missingError(); err != nil {
		return nil, err
	}
	if err := missingFileError(a, findings, target); err != nil {
		return nil, withSource(err, src.SourceMap)
	}
	warn(ctx, src, findings)
	return buildImages(ctx, c, bc, src, a, files, target, images)
}

// check parses the Acaifile once, reads the context files it depends on and lints it
// against them (readInputs: the read phase). parsed, when set, is told the Acaifile
// before the context is read.
func check(ctx context.Context, bc *dockerui.Client, src *dockerui.Source, parsed func(*spec.Acaifile)) (*spec.Acaifile, *contextFiles, []spec.Finding, error) {
	a, err := spec.Parse(src.SourceMap.Filename, src.SourceMap.Data)
	if err != nil {
		return nil, nil, nil, err
	}
	if parsed != nil {
		parsed(a)
	}
	reader := newBuildContext(bc)
	a, files, err := readInputs(ctx, reader, a)
	if err != nil {
		return nil, nil, nil, err
	}
	files.readFrom = reader.readFrom
	return a, files, append(spec.Lint(a, files.data, today()), spec.BuildArgFindings(bc.BuildArgs)...), nil
}

// answerSubrequest answers --check, --call outline and --call targets; ok is false for
// a normal build.
func answerSubrequest(ctx context.Context, bc *dockerui.Client, src *dockerui.Source, target string, a *spec.Acaifile, files *contextFiles, findings []spec.Finding, parseErr error, images *baseImages) (*client.Result, bool, error) {
	switch bc.BuildOpts().Opts["requestid"] {
	case planRequest.Name:
		if parseErr != nil {
			return nil, true, withSource(parseErr, src.SourceMap)
		}
		if err := files.missingError(); err != nil {
			return nil, true, err
		}
		cs, err := newConverters(ctx, bc, src, a, files, images)
		if err != nil {
			return nil, true, err
		}
		ps, plans, notes, err := cs.plans(ctx, target)
		if err != nil {
			return nil, true, err
		}
		res, err := planResult(a, ps, plans, notes)
		return res, true, err
	case subrequests.RequestSubrequestsDescribe:
		res, err := describeSubrequests()
		return res, true, err
	}
	return bc.HandleSubrequest(ctx, dockerui.RequestHandler{
		Lint: func(ctx context.Context) (*lint.LintResults, error) {
			return lintRequest(ctx, bc, src, target, a, files, findings, parseErr, images)
		},
		Outline: func(ctx context.Context) (*outline.Outline, error) {
			return outlineFor(bc, src, target), parseErr
		},
		ListTargets: func(ctx context.Context) (*targets.List, error) {
			if parseErr != nil {
				return nil, withSource(parseErr, src.SourceMap)
			}
			return targetList(src, a.BaseImage()), nil
		},
	})
}

// lintRequest answers --check: the Acaifile's findings, those of the excluded
// directories, and what compiles on Alpine (the resolution, as the build makes it).
func lintRequest(ctx context.Context, bc *dockerui.Client, src *dockerui.Source, target string, a *spec.Acaifile, files *contextFiles, findings []spec.Finding, parseErr error, images *baseImages) (*lint.LintResults, error) {
	var data map[string][]byte
	if files != nil {
		data = files.data
	}
	if files != nil && len(files.ignored) == 0 && parseErr == nil {
		sizes, err := excludedSizes(ctx, bc, spec.ExcludedByName(a.AppExcludes(files.venvs, nil)))
		if err != nil {
			return nil, err
		}
		findings = append(findings, spec.ExcludedDirectoryFindings(sizes)...)
	}
	if files != nil && parseErr == nil && files.missingError() == nil {
		// What compiles on Alpine: the resolution, as the build makes it.
		cs, err := newConverters(ctx, bc, src, a, files, images)
		if err != nil {
			return nil, err
		}
		_, plans, _, err := cs.plans(ctx, target)
		if err != nil {
			return nil, err
		}
		for _, p := range plans {
			if p != nil {
				findings = append(findings, p.Findings(a, data)...)
			}
		}
	}
	return lintResults(src.SourceMap, data, findings, parseErr), nil
}

// converters make the converter of each platform of one build, over one read of the
// context.
type converters struct {
	bc           *dockerui.Client
	src          *dockerui.Source
	a            *spec.Acaifile
	files        *contextFiles
	appExcludes  []string
	buildContext *llb.State
	images       *baseImages
}

func newConverters(ctx context.Context, bc *dockerui.Client, src *dockerui.Source, a *spec.Acaifile, files *contextFiles, images *baseImages) (*converters, error) {
	appExcludes := a.AppExcludes(files.venvs, files.ignored)
	buildContext, err := bc.MainContext(ctx, llb.ExcludePatterns(files.transferExcludes(appExcludes)))
	if err != nil {
		return nil, err
	}
	return &converters{bc: bc, src: src, a: a, files: files, appExcludes: appExcludes, buildContext: buildContext, images: images}, nil
}

// platforms are the build's target platforms: --platform, else the build platform.
func (cs *converters) platforms() []ocispecs.Platform {
	if len(cs.bc.TargetPlatforms) > 0 {
		return cs.bc.TargetPlatforms
	}
	return cs.bc.BuildPlatforms[:1]
}

func (cs *converters) forPlatform(p ocispecs.Platform) *converter {
	a, files := cs.a, cs.files
	return &converter{bc: cs.bc, spec: a, inputs: files.inputs, files: files.data, readFrom: files.readFrom,
		project:     files.project(a),
		appExcludes: cs.appExcludes, smap: cs.src.SourceMap, platform: p, context: cs.buildContext, images: cs.images}
}

// plans resolves the build for each target platform, without building it: for --check
// and --call plan. A platform acai cannot resolve ahead has no plan.
func (cs *converters) plans(ctx context.Context, target string) ([]ocispecs.Platform, []*plan.Plan, []planNotes, error) {
	ps := cs.platforms()
	out := make([]*plan.Plan, len(ps))
	notes := make([]planNotes, len(ps))
	for i, p := range ps {
		conv := cs.forPlatform(p)
		if target == stageBuilder {
			continue // the builder installs nothing: no plan
		}
		_, cmds, err := conv.resolveFor(ctx, target, false)
		if err != nil {
			return nil, nil, nil, withSource(err, cs.src.SourceMap)
		}
		installs := conv.crossInstalls(cmds)
		out[i], notes[i] = conv.plan, planNotes{layers: conv.on(model.OnBuild).layering(installs), compiles: conv.compilingText(installs)}
	}
	return ps, out, notes, nil
}

// buildImages builds the target for every requested platform, each from its own base
// image resolution, and attaches SBOMs when asked.
func buildImages(ctx context.Context, c client.Client, bc *dockerui.Client, src *dockerui.Source, a *spec.Acaifile, files *contextFiles, target string, images *baseImages) (*client.Result, error) {
	cs, err := newConverters(ctx, bc, src, a, files, images)
	if err != nil {
		return nil, err
	}
	epoch, err := sourceDateEpoch(bc.BuildArgs)
	if err != nil {
		return nil, err
	}
	scanner, err := sbomScanner(ctx, bc)
	if err != nil {
		return nil, err
	}
	var finals sync.Map // platform id → *scanned, for the SBOM scan
	rb, err := bc.Build(ctx, func(ctx context.Context, platform *ocispecs.Platform, _ int) (*dockerui.BuildResult, error) {
		p := bc.BuildPlatforms[0]
		if platform != nil {
			p = *platform
		}
		conv := cs.forPlatform(p)
		st, deps, err := conv.build(ctx, target)
		if err != nil {
			return nil, withSource(err, src.SourceMap)
		}
		if err := conv.crossError(); err != nil {
			return nil, err
		}
		if conv.plan != nil {
			warn(ctx, src, conv.plan.Findings(a, files.data))
		}
		st.config.Platform = p
		finals.Store(platforms.FormatAll(platforms.Normalize(p)), &scanned{image: st.state, deps: deps, context: *cs.buildContext, plan: conv.plan})
		def, err := st.state.Marshal(ctx)
		if err != nil {
			return nil, err
		}
		res, err := c.Solve(ctx, client.SolveRequest{Definition: def.ToPB(), CacheImports: bc.CacheImports})
		if err != nil {
			return nil, err
		}
		ref, err := res.SingleRef()
		if err != nil {
			return nil, err
		}
		return &dockerui.BuildResult{Reference: ref, Image: st.config, Epoch: epoch}, nil
	})
	if err != nil {
		return nil, err
	}
	if scanner != nil {
		if err := attachSBOMs(ctx, c, bc, rb, scanner, &finals, epoch); err != nil {
			return nil, err
		}
	}
	return rb.Finalize()
}

// sourceDateEpoch reads the SOURCE_DATE_EPOCH build arg (Unix seconds): the image's
// creation time, as for a Dockerfile build; nil when it is not set.
func sourceDateEpoch(args map[string]string) (*time.Time, error) {
	v, ok := args["SOURCE_DATE_EPOCH"]
	if !ok || v == "" {
		return nil, nil
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("build arg SOURCE_DATE_EPOCH=%q is not a number of seconds since 1970", v)
	}
	t := time.Unix(sec, 0).UTC()
	return &t, nil
}

// build routes a target to the stages it needs. Before the builder, the resolution for
// the target (resolve) says what compiles, so the builder gets exactly what that needs:
// no toolchain at all when every package is a wheel. deps is the dependency stage, when
// the target has one: what BUILDKIT_SBOM_SCAN_STAGE scans.
func (c *converter) build(ctx context.Context, target string) (_ *stage, deps *llb.State, _ error) {
	if target == stageBuilder {
		st, err := c.builderStage(ctx)
		return st, nil, err
	}
	builder, cmds, err := c.resolveFor(ctx, target, true)
	if err != nil {
		return nil, nil, err
	}
	installs := c.crossInstalls(cmds)
	// The dependency stage runs where a cross build's installs say they run
	// (model.OnBuild), on the builder plannedBuilder made there.
	steps := c.on(model.OnBuild)
	if steps.wheels, err = c.wheelStages(ctx); err != nil {
		return nil, nil, err
	}
	if target == stageWheels {
		st, err := c.wheelsStage(steps.wheels)
		return st, nil, err
	}
	installed := steps.depsStage(builder, installs)
	runner, err := c.runnerStage(ctx, installed)
	if err != nil || target == stageRunner {
		return runner, &installed.state, err
	}
	return c.testStage(installed, runner), &installed.state, nil
}

// resolveFor resolves what a build of target installs (c.plan) and returns the builder
// that plan needs and the dependency installs: all that --call plan and --check need,
// with no stage of the image made. building: for a build, which completes a named-only
// plan with its source builds' wheels (complete.go); --call plan and --check build none.
func (c *converter) resolveFor(ctx context.Context, target string, building bool) (*stage, []command, error) {
	if err := c.setCross(target); err != nil {
		return nil, nil, err
	}
	steps := c.on(model.OnBuild)
	cmds := c.withOwnInstallOptions(depsCommands(c.installSpec(), c.project, c.appExcludes))
	resolved := slices.Clone(cmds)
	if target == stageTest && len(c.spec.Test.Requirements)+len(c.spec.Test.Packages) > 0 {
		resolved = append(resolved, c.withOwnInstallOptions([]command{testCommand(c.spec)})...)
	}
	// uv only when a step runs uv, which resolves whichever installer installs: an app
	// with nothing to install needs none.
	if len(resolved) > 0 {
		var err error
		if steps.uv, err = steps.uvBinaries(ctx); err != nil {
			return nil, nil, err
		}
	}
	builder, err := c.plannedBuilder(ctx, resolved, building)
	return builder, cmds, err
}

// plannedBuilder resolves what cmds install for the converter's platform (c.plan) and
// is the builder that plan needs. A build acai cannot resolve ahead (an architecture
// the resolver has no musl platform for, a pylock.toml with local or VCS packages)
// gets the whole toolchain.
func (c *converter) plannedBuilder(ctx context.Context, cmds []command, building bool) (*stage, error) {
	// A cross build's builder is the build platform's.
	steps := c.on(model.OnBuild)
	base, generated, err := steps.builderBase(ctx)
	if err != nil {
		return nil, err
	}
	target, ok := plan.TargetFor(c.platform.Architecture, c.spec.Python)
	for _, cmd := range cmds {
		ok = ok && (cmd.resolve != nil || cmd.project != nil)
	}
	if !ok || len(cmds) == 0 {
		if !generated {
			return base, nil
		}
		if len(cmds) == 0 { // nothing installs: nothing to compile
			return steps.addBuildPackages(base, c.spec.Build.APK, ""), nil
		}
		return steps.addBuildPackages(base, builderPackages(c.spec), ""), nil
	}
	vcs := generated && needsVCS(c.spec, c.files)
	if vcs {
		base = steps.addBuildPackages(base, vcsPackages, "for VCS requirements")
	}
	// The resolver runs on the build platform, whatever the target: it executes no
	// target binary.
	resolver, rbase := steps, base
	if build := c.bc.BuildPlatforms[0]; !samePlatform(build, steps.platform) {
		resolver = c.forPlatform(build)
		if rbase, _, err = resolver.builderBase(ctx); err != nil {
			return nil, err
		}
		if resolver.uv, err = resolver.uvBinaries(ctx); err != nil {
			return nil, err
		}
		if vcs {
			rbase = resolver.addBuildPackages(rbase, vcsPackages, "for VCS requirements")
		}
	}
	if c.plan, c.resolution, err = resolver.resolve(ctx, rbase.state, target, cmds); err != nil {
		return nil, err
	}
	if building && resolver == steps && steps == c && c.completesWithWheels() {
		if err := c.completeResolution(ctx, rbase.state, cmds); err != nil {
			return nil, err
		}
	}
	if c.host != nil {
		c.plan.Cross = true
		c.host.plan, c.host.resolution = c.plan, c.resolution
	}
	if !generated {
		return base, nil
	}
	// Where the installs compile nothing (each source build's wheel comes from its own
	// stage), the builder needs nothing but [build].apk.
	packages, why := slices.Clone(c.spec.Build.APK), ""
	if c.installsCompile(cmds) {
		packages, why = plannedPackages(c.spec, c.plan)
	}
	return steps.addBuildPackages(base, packages, why), nil
}

// forPlatform is a converter of the same build for another platform.
func (c *converter) forPlatform(p ocispecs.Platform) *converter {
	other := *c
	other.platform, other.plan, other.uv, other.resolution, other.host = p, nil, nil, nil, nil
	return &other
}

func samePlatform(a, b ocispecs.Platform) bool {
	return platforms.FormatAll(platforms.Normalize(a)) == platforms.FormatAll(platforms.Normalize(b))
}

func isTarget(name string) bool {
	for _, t := range Targets {
		if t.Name == name {
			return true
		}
	}
	return false
}

func targetNames() string {
	names := make([]string, len(Targets))
	for i, t := range Targets {
		names[i] = t.Name
	}
	return strings.Join(names, ", ")
}

// InstallsProject reports whether the build installs the project itself, when its
// pyproject.toml has a [build-system]: a uv.lock's, a poetry.lock's, a lock found in the
// context, an unlocked project. A pylock.toml the Acaifile names is installed alone (its
// project, if any, is one of its packages): the pyproject.toml beside it, read for its
// requires-python, changes nothing.
func InstallsProject(a *spec.Acaifile) bool {
	return a.LockKind() == spec.LockUV || a.LockKind() == spec.LockPoetry || a.LockFrom == "detected" || a.UnlockedProject
}

// withFileSource attaches the context file an *spec.Error names (a lock, pyproject.toml,
// .python-version), so that its lines show under the message; other errors are kept.
func (cf *contextFiles) withFileSource(err error) error {
	var se *spec.Error
	if errors.As(err, &se) {
		if data, ok := cf.data[se.Filename]; ok {
			return withSource(err, fileSourceMap(se.Filename, data))
		}
	}
	return err
}

// withSource attaches the Acaifile, and the range an *spec.Error points at, so that
// buildx and buildctl print the offending lines under the message.
func withSource(err error, smap *llb.SourceMap) error {
	if smap == nil {
		return err
	}
	var se *spec.Error
	ranges := []*pb.Range{}
	if errors.As(err, &se) {
		if se.Filename != smap.Filename {
			return err // about another file, whose source is attached already
		}
		ranges = append(ranges, pbRange(se.Range))
	}
	info := &pb.SourceInfo{Data: smap.Data, Filename: smap.Filename, Language: smap.Language}
	if smap.Definition != nil {
		info.Definition = smap.Definition.ToPB()
	}
	return errdefs.WithSource(err, &errdefs.Source{Info: info, Ranges: ranges})
}
