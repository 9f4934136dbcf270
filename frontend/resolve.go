package frontend

import (
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/acai-build/acai/plan"
	"github.com/acai-build/acai/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/gateway/client"
)

// resolvedMount is where a resolve step writes its pylock.toml.
const resolvedMount = "/acai/resolved"

// resolve runs the resolver for the converter's target over what cmds install, in one
// step per command on base (the builder's base image: no toolchain yet), solves it and
// reads the result. Its inputs are those of the installs, so it is cached as they are.
// The resolver is uv (`uv pip compile --python-platform <arch>-unknown-linux-musl
// --python-version X.Y`), whichever installer installs: it lists, per package, the
// wheels the target can install, and none for a package that compiles there.
func (c *converter) resolve(ctx context.Context, base llb.State, target plan.Target, cmds []command) (*plan.Plan, *llb.State, error) {
	packages, namedOnly, merged, err := c.runResolves(ctx, base, cmds,
		func(cmd command) command { return resolveCommand(cmd, target) },
		func(cmd command) string { return c.resolveName(cmd, target) }, namedOnlyMarker)
	if err != nil {
		return nil, nil, err
	}
	p := plan.Make(target, packages)
	p.NamedOnly = namedOnly
	return p, merged, nil
}

// runResolves runs, on base, the resolve step (step; its progress name: name) of each
// command of cmds that resolves, solves them at once and reads what each wrote: the
// packages of all, whether one left marker beside its pylock.toml, and the steps'
// output.
func (c *converter) runResolves(ctx context.Context, base llb.State, cmds []command, step func(command) command, name func(command) string, marker string) ([]plan.Package, bool, *llb.State, error) {
	merged := llb.Scratch().Platform(c.platform)
	var names []string // each command's pylock.toml and marker, read at once
	for i, cmd := range cmds {
		if cmd.resolve == nil {
			continue
		}
		out := c.run(base, step(cmd).step(stageResolve, name(cmd))).AddMount(resolvedMount, llb.Scratch().Platform(c.platform))
		merged = merged.File(llb.Copy(out, "/", fmt.Sprintf("/%d/", i), &llb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true}), c.opts(stageResolve, "collect the resolution")...)
		names = append(names, fmt.Sprintf("/%d/pylock.toml", i), fmt.Sprintf("/%d/%s", i, marker))
	}
	if len(names) == 0 {
		return nil, false, &merged, nil
	}
	def, err := merged.Marshal(ctx)
	if err != nil {
		return nil, false, nil, err
	}
	res, err := c.bc.GatewayClient().Solve(ctx, client.SolveRequest{Definition: def.ToPB(), CacheImports: c.bc.CacheImports})
	if err != nil {
		return nil, false, nil, err
	}
	ref, err := res.SingleRef()
	if err != nil {
		return nil, false, nil, err
	}
	contents, errs := readFiles(ctx, ref, names)
	var packages []plan.Package
	marked := false
	for i, cmd := range slices.DeleteFunc(slices.Clone(cmds), func(c command) bool { return c.resolve == nil }) {
		marked = marked || errs[2*i+1] == nil
		switch {
		case errs[2*i] != nil && errs[2*i+1] == nil:
			continue // a failed completion, which writes no pylock.toml
		case errs[2*i] != nil:
			return nil, false, nil, fmt.Errorf("reading the resolution of %s: %w", cmd.what, errs[2*i])
		}
		pkgs, err := plan.ParsePylock(names[2*i], contents[2*i])
		if err != nil {
			return nil, false, nil, err
		}
		packages = mergePackages(packages, pkgs)
	}
	return packages, marked, &merged, nil
}

// resolveName is a resolve step's progress name: what it resolves, for which target.
func (c *converter) resolveName(cmd command, target plan.Target) string {
	what := strings.TrimPrefix(strings.TrimPrefix(cmd.what, "uv "), "pip install ")
	return "resolve " + strings.TrimPrefix(what, "pip install ") + " for " + target.String()
}

// resolveCommand is the resolver's run of what cmd installs: the same inputs, index
// settings and directory, writing resolvedMount/pylock.toml. It resolves wheels only
// first (--no-build), which builds nothing and gives the whole set; when some package
// has no wheel for the target, it resolves the named requirements alone (--no-deps):
// getting a source distribution's dependencies means building it, which may need the
// very packages the plan is for (awslambdaric's metadata step compiles). It then
// leaves resolvedMount/named-only, and the install resolves those dependencies; not for
// a lock (or no_deps = true), whose named requirements are all there is.
func resolveCommand(cmd command, target plan.Target) command {
	compile := compileArgs(target)
	wheelsOnly := shellWords(slices.Concat(compile, []string{"--no-build"}, cmd.resolve))
	named, marker := compile, ""
	if !slices.Contains(cmd.resolve, "--no-deps") {
		named = append(slices.Clone(compile), "--no-deps")
		marker = " && touch " + path.Join(resolvedMount, namedOnlyMarker)
	} // else a lock's export, or no_deps = true: the named requirements are the whole set
	namedOnly := shellWords(slices.Concat(named, cmd.resolve))
	script := wheelsOnly + " 2>/dev/null || { " +
		"echo 'acai: resolving " + target.WheelPlatform() + " wheels only failed (a package has none, or see below); resolving the named requirements alone'; " +
		namedOnly + marker + "; }"
	if cmd.export != "" {
		script = cmd.export + " && { " + script + "; }"
	}
	generated := maps.Clone(cmd.generated)
	if len(cmd.resolveFiles) > 0 {
		if generated == nil {
			generated = map[string][]byte{}
		}
		maps.Copy(generated, cmd.resolveFiles)
	}
	return command{tool: uv, args: []string{"/bin/sh", "-c", script}, what: cmd.what, inputs: cmd.inputs, generated: generated, dir: cmd.dir, keys: cmd.keys}
}

// compileArgs run uv's resolver for target, writing resolvedMount/pylock.toml.
func compileArgs(target plan.Target) []string {
	return []string{uvMount + "/uv", "pip", "compile", "--quiet", "--format", "pylock.toml",
		"--python-platform", target.ResolverPlatform(), "--python-version", target.Python,
		"--output-file", path.Join(resolvedMount, "pylock.toml")}
}

// namedOnlyMarker says a resolution covers the named requirements, not their
// dependencies.
const namedOnlyMarker = "named-only"

// mergePackages adds more to pkgs, each name once.
func mergePackages(pkgs, more []plan.Package) []plan.Package {
	for _, p := range more {
		if !slices.ContainsFunc(pkgs, func(q plan.Package) bool { return q.Name == p.Name }) {
			pkgs = append(pkgs, p)
		}
	}
	slices.SortFunc(pkgs, func(a, b plan.Package) int { return strings.Compare(a.Name, b.Name) })
	return pkgs
}

// followPlan makes cmd install what the resolution says: exactly its versions (as
// constraints, for requirements that may not pin them), and from source what compiles
// on the target, even where the builder's own platform would find a wheel.
func followPlan(cmd command, p *plan.Plan) command {
	if cmd.resolve == nil || p == nil {
		return cmd
	}
	var extra []string
	if pins := p.Pins(); len(pins) > 0 && !cmd.locked {
		cmd.generated = maps.Clone(cmd.generated)
		if cmd.generated == nil {
			cmd.generated = map[string][]byte{}
		}
		cmd.generated[resolvedPinsFile] = pins
		extra = append(extra, "-c", path.Join(requirementsMount, resolvedPinsFile))
	}
	switch compiled := p.Compiled(); {
	case len(compiled) == 0:
	case takesWheels(cmd, p):
		cmd.wheels = compiled
		cmd.what += " (wheels compiled from source: " + p.Describe() + ")"
		if p.NamedOnly { // the dependencies of those packages resolve here, and may compile
			cmd.hint = p.FailureHint()
		}
	default:
		extra = append(extra, cmd.tool.NoBinary(compiled)...)
		cmd.what += " (builds from source: " + p.Describe() + ")"
		cmd.hint = p.FailureHint()
	}
	cmd.args = append(slices.Clone(cmd.args), extra...)
	return cmd
}

// takesWheels reports whether cmd installs the plan's compiled packages from their
// wheel stages: requirements and packages do; a lock's install checks the lock's hashes,
// which a wheel built here does not have, and compiles in the install, as does one whose
// requirement files say --no-binary (the installer refuses any wheel of those packages);
// a cross build compiles nothing.
func takesWheels(cmd command, p *plan.Plan) bool { return !cmd.locked && !cmd.noBinary && !p.Cross }

// compilesInInstall reports whether one of cmds compiles in the install itself, so that
// the builder the installs run on needs the toolchain: a lock's source builds, and the
// dependencies of source builds that the plan did not resolve (NamedOnly).
func compilesInInstall(cmds []command, p *plan.Plan) bool {
	switch {
	case len(p.SourceBuilds) == 0:
		return false
	case p.NamedOnly || len(p.Compiled()) < len(p.SourceBuilds): // a local or VCS source build too
		return true
	}
	for _, cmd := range cmds {
		if cmd.resolve != nil && !takesWheels(cmd, p) {
			return true
		}
	}
	return false
}

// resolvedPinsFile holds the resolved versions, as constraints of the install.
const resolvedPinsFile = "acai-resolved.txt"

// needsVCS reports whether a requirement names a VCS URL (git+https://...): resolving and
// installing it needs git and ssh in the builder.
func needsVCS(a *spec.Acaifile, files map[string][]byte) bool {
	texts := slices.Clone(a.Packages)
	for _, f := range a.Requirements {
		texts = append(texts, string(files[f]))
	}
	for _, t := range texts {
		for _, vcs := range []string{"git+", "hg+", "svn+", "bzr+"} {
			if strings.Contains(t, vcs) {
				return true
			}
		}
	}
	return false
}
