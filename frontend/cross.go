package frontend

import (
	"context"
	"fmt"
	"slices"

	"github.com/acai-build/acai/model"
	"github.com/acai-build/acai/plan"
	"github.com/acai-build/acai/spec"
	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
)

// A cross build makes a target platform's image (--platform linux/arm64 on an amd64
// machine) without running a single target binary, so without an emulator: the
// dependency install runs on the build platform and installs the target's wheels (uv
// --python-platform <arch>-unknown-linux-musl --python-version X.Y --only-binary
// :all:) into the venv or the Lambda task root, whose paths are the same in the target
// image; the runner's apk add runs the build platform's apk into the target's root
// (--root --arch --no-scripts), and the user is added by editing its files. The runner's
// layers land on the target's base image as in a native build. [build].cross = false
// runs every step on the target platform instead (an emulator then runs them).

// targetMount is where a cross build's runner steps see the target's root.
const targetMount = "/acai/target"

// setCross makes c a cross build (c.host, the build platform's converter, runs its
// steps) when the target platform is not the build platform and [build].cross allows.
func (c *converter) setCross(target string) error {
	// Another variant of the build platform's architecture (amd64/v2 on amd64) runs
	// natively: only another OS or architecture would need an emulator.
	build := c.bc.BuildPlatforms[0]
	if build.OS == c.platform.OS && build.Architecture == c.platform.Architecture || !c.spec.Build.CrossEnabled() {
		return nil
	}
	name := platforms.FormatAll(platforms.Normalize(c.platform))
	if _, ok := plan.TargetFor(c.platform.Architecture, c.spec.Python); !ok {
		return fmt.Errorf("acai cross-builds for linux/amd64 and linux/arm64, not %s: set `cross = false` in [build] to build every step on %s under an emulator", name, name)
	}
	if target == stageTest {
		return fmt.Errorf("--target test runs [test].command on %s, which this %s build platform cannot do without an emulator: run the tests on a %s machine, or set `cross = false` in [build] to run them under an emulator",
			name, platforms.FormatAll(platforms.Normalize(build)), name)
	}
	c.host = c.forPlatform(build)
	return nil
}

// installSpec is the Acaifile as the dependency install reads it. A cross build installs
// with uv, whatever the installer: pip installs another platform's wheels only into a
// --target directory, and uv reads the same requirement files and pip settings.
func (c *converter) installSpec() *spec.Acaifile {
	if c.host == nil || c.spec.Build.Installer != spec.InstallerPip {
		return c.spec
	}
	a := *c.spec
	a.Build.Installer = spec.InstallerUV
	return &a
}

// crossInstalls are cmds as a cross build runs them: for the target's platform and
// Python, wheels only (a local project aside, which uv builds as a pure-Python wheel).
func (c *converter) crossInstalls(cmds []command) []command {
	if c.host == nil {
		return cmds
	}
	t, _ := plan.TargetFor(c.platform.Architecture, c.spec.Python)
	out := make([]command, len(cmds))
	for i, cmd := range cmds {
		extra := []string{"--python-platform", t.ResolverPlatform(), "--python-version", t.Python}
		if cmd.project == nil {
			extra = append(extra, "--only-binary", ":all:")
		}
		cmd.args = append(slices.Clone(cmd.args), extra...)
		cmd.what += " for " + t.WheelPlatform() + " (cross: wheels only)"
		cmd.platform = model.OnBuild
		out[i] = cmd
	}
	return out
}

// on is the converter that runs a step on platform p: for model.OnBuild in a cross
// build, the build platform's (c.host); otherwise c, whose platform runs every step of a
// native build, and of an emulated one ([build].cross = false).
func (c *converter) on(p model.Platform) *converter {
	if p == model.OnBuild && c.host != nil {
		return c.host
	}
	return c
}

// runnerLayer emits the runner step s, which adds a layer to the runner r: on r itself,
// or for a step on the build platform that changes the target's root (s.Root: a cross
// build), in the build platform's runner base with r's root mounted at s.Root.
func (c *converter) runnerLayer(ctx context.Context, r *stage, s model.Run, stages map[string]llb.State) (llb.State, error) {
	c.history(r, s.ProgressName())
	if s.Root == "" {
		return c.runWith(r.state, s, stages).Root(), nil
	}
	conv := c.on(s.Platform)
	img := runnerImage(c.spec)
	hostBase, err := conv.baseImage(ctx, stageRunner, img.Ref, img.Keys...)
	if err != nil {
		return llb.State{}, err
	}
	return conv.runWith(hostBase.state, s, stages).AddMount(s.Root, r.state), nil
}

// crossError is the error of a cross build whose plan compiles something (plan.CrossError),
// with the source of the requirement file it is in; nil otherwise. --call plan and
// --check show such a plan rather than fail.
func (c *converter) crossError() error {
	if c.host == nil || c.plan == nil {
		return nil
	}
	err := c.plan.CrossError(c.spec, c.files, platforms.FormatAll(platforms.Normalize(c.platform)))
	if err == nil {
		return nil
	}
	if data, ok := c.files[err.Filename]; ok && err.Filename != c.spec.Source.Filename {
		return withSource(err, fileSourceMap(err.Filename, data))
	}
	return withSource(err, c.smap)
}
