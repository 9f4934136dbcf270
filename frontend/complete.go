package frontend

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/textproto"
	"path"
	"slices"
	"strings"

	"github.com/acai-build/acai/plan"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/pelletier/go-toml/v2"
)

// A resolution that lists the named requirements only (plan.NamedOnly: a package with no
// wheel for the target, whose dependencies uv could know only by building it) is
// completed once the wheels of its source builds are built, in their own stages, as the
// build needs them anyway: each wheel's METADATA says what it requires, which uv takes as
// static dependency metadata ([[dependency-metadata]] in a uv.toml beside the
// requirement files) and resolves the whole set without building anything. The build
// then gets what a complete resolution gives: one layer per package, each source build's
// layer taking its wheel, and no toolchain in the installs. Only for a build: --call plan
// and --check build no wheel, and say the layering the build will get. Not for a cross
// build, which compiles nothing.

// completionConfigFile is the uv.toml the completing resolve finds in its directory.
const completionConfigFile = "uv.toml"

// completionFailedMarker says the completing resolve failed: the plan stays named-only.
const completionFailedMarker = "incomplete"

// completesWithWheels reports whether a named-only plan is completed by its wheels.
func (c *converter) completesWithWheels() bool {
	return c.plan != nil && c.plan.NamedOnly && !c.plan.Cross && c.host == nil && len(c.plan.Compiled()) > 0 &&
		len(c.plan.Compiled()) == len(c.plan.SourceBuilds)
}

// completeResolution completes c's named-only plan with its source builds' wheels
// (wheelStages), resolving cmds again on base; the plan stays as it was when that
// resolve fails (an sdist among the dependencies that does not build without a
// toolchain, say): the install then resolves those dependencies, as before.
func (c *converter) completeResolution(ctx context.Context, base llb.State, cmds []command) error {
	wheels, err := c.wheelStages(ctx)
	if err != nil {
		return err
	}
	var metadata []dependencyMetadata
	for _, sb := range c.plan.SourceBuilds {
		st := wheels[sb.Name]
		requires, err := c.builtWheelRequires(ctx, &st)
		if err != nil {
			return fmt.Errorf("reading the wheel of %s: %w", sb, err)
		}
		metadata = append(metadata, dependencyMetadata{Name: sb.Name, Version: sb.Version, RequiresDist: requires})
	}
	config, err := toml.Marshal(struct {
		DependencyMetadata []dependencyMetadata `toml:"dependency-metadata"`
	}{metadata})
	if err != nil {
		return err
	}
	packages, incomplete, resolution, err := c.runResolves(ctx, base, cmds, func(cmd command) command {
		cmd.generated = withFile(cmd.generated, completionConfigFile, config)
		return completingCommand(cmd, c.plan.Target)
	}, func(cmd command) string {
		return c.resolveName(cmd, c.plan.Target) + ", with the dependencies of the wheels built from source"
	}, completionFailedMarker)
	if err != nil || incomplete {
		return err
	}
	// A source build is listed with its index's sdist, as in the first resolution.
	complete := plan.Make(c.plan.Target, packages)
	if !slices.Equal(complete.Compiled(), c.plan.Compiled()) {
		return nil // what compiles changed: keep the plan the wheels were built for
	}
	c.plan, c.resolution = complete, resolution
	return nil
}

// dependencyMetadata is one [[dependency-metadata]] entry of a uv.toml.
type dependencyMetadata struct {
	Name         string   `toml:"name"`
	Version      string   `toml:"version"`
	RequiresDist []string `toml:"requires-dist"`
}

// completingCommand resolves what cmd installs for target as resolveCommand does, but
// with source builds allowed (the built wheels' metadata stands in for building them)
// and no named-only fallback: a failure leaves completionFailedMarker.
func completingCommand(cmd command, target plan.Target) command {
	script := shellWords(slices.Concat(compileArgs(target), cmd.resolve)) + " || { echo 'acai: the resolution with the built wheels failed; the install resolves their dependencies'; touch " +
		path.Join(resolvedMount, completionFailedMarker) + "; }"
	generated := withFile(cmd.generated, "", nil)
	maps.Copy(generated, cmd.resolveFiles)
	return command{tool: uv, args: []string{"/bin/sh", "-c", script}, what: cmd.what, inputs: cmd.inputs, generated: generated, dir: cmd.dir, keys: cmd.keys}
}

// withFile is m cloned (never nil), with k set to v when k is not "".
func withFile(m map[string][]byte, k string, v []byte) map[string][]byte {
	out := maps.Clone(m)
	if out == nil {
		out = map[string][]byte{}
	}
	if k != "" {
		out[k] = v
	}
	return out
}

// builtWheelRequires is the Requires-Dist of the wheel that st (a wheel stage's output)
// holds.
func (c *converter) builtWheelRequires(ctx context.Context, st *llb.State) ([]string, error) {
	// With the build's cache imports: a wheel another machine built comes from its cache.
	def, err := st.Marshal(ctx)
	if err != nil {
		return nil, err
	}
	res, err := c.bc.GatewayClient().Solve(ctx, client.SolveRequest{Definition: def.ToPB(), CacheImports: c.bc.CacheImports})
	if err != nil {
		return nil, err
	}
	ref, err := res.SingleRef()
	if err != nil {
		return nil, err
	}
	entries, err := ref.ReadDir(ctx, client.ReadDirRequest{Path: "/", IncludePattern: "*.whl"})
	if err != nil {
		return nil, err
	}
	if len(entries) != 1 {
		return nil, fmt.Errorf("%d wheel files, want one", len(entries))
	}
	dt, err := ref.ReadFile(ctx, client.ReadRequest{Filename: entries[0].Path})
	if err != nil {
		return nil, err
	}
	return wheelRequires(dt)
}

// wheelRequires reads the Requires-Dist lines of a wheel's METADATA (its .dist-info's,
// an email-header file): each a PEP 508 requirement, markers included.
func wheelRequires(wheel []byte) ([]string, error) {
	zr, err := zip.NewReader(bytes.NewReader(wheel), int64(len(wheel)))
	if err != nil {
		return nil, err
	}
	for _, f := range zr.File {
		dir, name := path.Split(f.Name)
		if name != "METADATA" || !strings.HasSuffix(strings.TrimSuffix(dir, "/"), ".dist-info") || strings.Count(dir, "/") != 1 {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		header, err := textproto.NewReader(bufio.NewReader(rc)).ReadMIMEHeader()
		if err != nil && len(header) == 0 {
			return nil, err
		}
		return nonNil(header.Values("Requires-Dist")), nil
	}
	return nil, fmt.Errorf("no .dist-info/METADATA")
}
