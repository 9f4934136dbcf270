package frontend

import (
	"context"
	_ "embed"
	"path"
	"slices"

	"github.com/acai-build/acai/model"
	"github.com/acai-build/acai/spec"
	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
)

// uv, the resolver and the default installer, comes from the build's own Python index by
// default: the wheel spec.UVRequirements pins, fetched by the base image's pip with the
// settings and secrets the install uses, hash-checked. A company that mirrors docker.io
// and PyPI and nothing else builds with no second registry. The official image stays a
// choice: [build].uv_image, or a named build context replacing spec.UVImage.

// uvFetchScript is the fetch step's script (uvfetch.sh), mounted beside the pinned
// requirement, so that neither its text nor a long command line reaches an error.
//
//go:embed uvfetch.sh
var uvFetchScript []byte

const (
	uvFetchFile        = "acai-uv.sh"
	uvRequirementsFile = "acai-uv.txt"
	uvOutMount         = "/acai/uv-out"
	// uvFromIndex keys the fetched uv among the build's base images: once per platform.
	uvFromIndex = "acai: uv from the Python index"
)

// pipForUV is pip as it fetches uv: pip's settings, cache and secrets, and also uv's
// index build args and uv.toml secret, which uvfetch.sh hands to pip where pip's own are
// not set.
var pipForUV = &pipInstaller{tool{name: pip.name, what: pip.what, argPrefixes: []string{"PIP_", "UV_"}, env: pip.env, cacheDir: pip.cacheDir,
	secrets: append(slices.Clone(pip.secrets), [2]string{"uv.toml", "/etc/uv/uv.toml"})}}

// uvBinaries is a state with uv's binaries at its root (/uv, /uvx), for the steps that
// run uv on c's platform: the image [build].uv_image names, else the one a named build
// context gives for spec.UVImage, else the pinned wheel from the Python index.
func (c *converter) uvBinaries(ctx context.Context) (*stage, error) {
	ref := c.spec.Build.UVImage
	if ref == "" {
		nc, err := c.bc.NamedContext(spec.UVImage, dockerui.ContextOpt{Platform: &c.platform})
		if err != nil {
			return nil, err
		}
		if nc != nil {
			ref = spec.UVImage
		}
	}
	if ref != "" {
		return c.baseImage(ctx, stageDeps, ref, "build.uv_image", "build.installer", "lock")
	}
	return c.images.get(platforms.FormatAll(platforms.Normalize(c.platform)), uvFromIndex, func() (*stage, error) {
		return c.fetchUV(ctx)
	})
}

// fetchUV is the step that fetches the pinned uv wheel with the builder base's pip and
// keeps its binaries. Its inputs are constant but for the index settings: a rebuild
// finds it cached, whatever else changed.
func (c *converter) fetchUV(ctx context.Context) (*stage, error) {
	base, _, err := c.builderBase(ctx)
	if err != nil {
		return nil, err
	}
	cmd := uvFetchCommand(c.spec)
	r := cmd.step(stageDeps, cmd.what)
	r.Env = append(r.Env, [2]string{"ACAI_UV_OUT", uvOutMount})
	run := c.run(base.state, r)
	return &stage{state: run.AddMount(uvOutMount, llb.Scratch().Platform(c.platform))}, nil
}

// uvFetchCommand fetches the pinned uv wheel into $ACAI_UV_OUT (uvfetch.sh): the step of
// acai's LLB and of an ejected Dockerfile's uv stage.
func uvFetchCommand(a *spec.Acaifile) command {
	return command{tool: pipForUV,
		args:      slices.Concat([]string{"/bin/sh", path.Join(requirementsMount, uvFetchFile)}, indexOptions(a.Build)),
		what:      "uv " + spec.UVVersion + " from the Python index (pip download uv==" + spec.UVVersion + ", hash-checked)",
		generated: map[string][]byte{uvFetchFile: uvFetchScript, uvRequirementsFile: spec.UVRequirements, pipSettingsFile: pipSettingsScript},
		dir:       requirementsMount, keys: []string{"build.installer", "lock", "build.index_url"}}
}

// usesUV reports whether a step of cmds runs uv.
func usesUV(cmds []command) bool {
	return slices.ContainsFunc(cmds, func(c command) bool { return slices.ContainsFunc(c.tool.Tool().mounts, mountIsUV) })
}

// mountsUV reports whether the step r runs uv.
func mountsUV(r model.Run) bool { return slices.ContainsFunc(r.Mounts, mountIsUV) }

func mountIsUV(m model.Mount) bool { return m.Tool == model.ToolUV }
