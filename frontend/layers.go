package frontend

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"path"
	"slices"
	"strings"

	"github.com/acai-build/acai/model"
	"github.com/acai-build/acai/plan"
	"github.com/acai-build/acai/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
)

// One layer per package: each resolved package is installed alone (--no-deps, its
// resolved version) onto the empty dependency directory,
// llb.Diff takes what that added, and the runner is llb.Merge of its base and those
// diffs. A step's inputs are its package's only, so a version bump re-runs one step and
// ships one layer, and the same package for the same Python and platform is the same
// layer in every image that has it.

// layerRequirementsFile holds the pinned requirement lines of one layer's step.
const layerRequirementsFile = "acai-layer.txt"

// nothingToInstall is packageLayersOff's answer for a build that installs nothing: its
// empty copy needs no reason in its progress name.
const nothingToInstall = "nothing to install"

// namedOnlyReason is packageLayersOff's answer for a named-only plan (plan.NamedOnly).
const namedOnlyReason = "a source build's dependencies are resolved by the install"

// packageLayersOff says why this build installs its dependencies in one layer; "" when
// it gets one layer per package. cmds are the dependency installs.
func (c *converter) packageLayersOff(cmds []command) string {
	switch {
	case len(cmds) == 0:
		return nothingToInstall
	case c.spec.Runtime.Layers == spec.LayersSingle:
		return `layers = "single"`
	case c.plan == nil:
		return "the build was not resolved ahead"
	case c.plan.NamedOnly:
		return namedOnlyReason
	case c.plan.Cross:
		return "a cross build"
	}
	lines := c.pinnedLines()
	for _, cmd := range cmds {
		switch {
		case cmd.locked && lines == nil && c.spec.LockKind() == spec.LockUV:
			return "a uv.lock of packages from more than one index installs as one layer (uv sync)"
		case cmd.locked && lines == nil:
			// A package's step checks the lock's own hashes (pinnedLines): a lock without
			// them has no line of its own per package.
			return "a " + c.spec.LockKind() + " without index hashes installs as one layer"
		case cmd.project == nil && c.localFindLinks(cmd.inputs):
			return "a requirement file's --find-links names a directory of the build context"
		}
	}
	for _, p := range c.plan.Packages {
		if p.Source != plan.SourceIndex || p.Version == "" {
			return fmt.Sprintf("%s is not from an index", p.Name)
		}
		if _, ok := lines[p.Name]; lines != nil && !ok {
			if c.spec.Lock == "" {
				return fmt.Sprintf("%s has no hash-pinned line in the requirement files", p.Name)
			}
			return fmt.Sprintf("%s is not in %s", p.Name, c.spec.Lock)
		}
	}
	if !c.canMerge() {
		return "this BuildKit cannot merge layers (MergeOp, DiffOp: the Docker Engine's classic image store)"
	}
	return ""
}

// layering is what --call plan says of the dependency layers of this build.
func (c *converter) layering(cmds []command) string {
	why := c.packageLayersOff(cmds)
	if why == namedOnlyReason && c.completesWithWheels() && c.canMerge() {
		// --call plan and --check build no wheel: the build completes this plan with them.
		return "one per package once the source builds' wheels are built (the build resolves their dependencies with them; if that fails, one layer)"
	}
	if why != "" {
		return "one layer (" + why + ")"
	}
	n := len(layerGroups(c.plan.Packages, c.spec.Runtime.MaxLayers))
	if c.spec.Runtime.Layout == spec.LayoutVenv {
		n++
	}
	if len(projectInstalls(cmds)) > 0 {
		n++ // the local project, on top
	}
	return fmt.Sprintf("one per package: %d layers (max_layers %d)", n, c.spec.Runtime.MaxLayers)
}

// pinnedLines are the hash-pinned requirement line of each package, by normalized name:
// what its package layer installs, checked against those hashes. They come from the
// Acaifile's lock (its packages as lines), or from requirement files that pin hashes of
// their own (pip-compile --generate-hashes; pip's hash-checking mode then needs every
// package pinned). A source that pins two versions of a package (a uv.lock's forks)
// gives the line of the version the plan resolved. nil without a lock or hash-pinned
// requirement files, and for a pylock.toml of files from elsewhere than an index.
func (c *converter) pinnedLines() map[string]string {
	var pinned map[string][]string
	switch c.spec.LockKind() {
	case spec.LockPylock, spec.LockUV:
		if c.project.LockHashedRequirements == nil {
			return nil
		}
		pinned = spec.PinnedLines(c.project.LockHashedRequirements)
	case spec.LockPoetry:
		if c.project.LockRequirements == nil {
			return nil
		}
		pinned = spec.PinnedLines(c.project.LockRequirements)
	default:
		if !c.hashChecked(c.spec.Requirements) {
			return nil
		}
		pinned = map[string][]string{}
		for _, f := range c.requirementFilesRead(c.spec.Requirements) {
			for name, lines := range spec.PinnedLines(c.files[f]) {
				pinned[name] = append(pinned[name], lines...)
			}
		}
	}
	resolved := map[string]string{}
	if c.plan != nil {
		for _, p := range c.plan.Packages {
			resolved[p.Name] = p.Version
		}
	}
	out := map[string]string{}
	for name, lines := range pinned {
		for _, line := range lines {
			if v, ok := resolved[name]; !ok || spec.PinnedVersion(line) == v {
				out[name] = line // another fork's version is passed over
				break
			}
		}
	}
	return out
}

// requirementFilesRead are the requirement files of files and what they include, as
// read from the context: their texts are in c.files.
func (c *converter) requirementFilesRead(files []string) []string {
	var out []string
	for _, f := range files {
		for _, p := range append([]string{f}, c.inputs[f]...) {
			if _, ok := c.files[p]; ok && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// requirementIndexOptions are the lines of the Acaifile's requirement files (and what
// they include) that say where packages come from (spec.IndexOptions): a package layer
// and a wheel stage, which take one package each, carry them.
func (c *converter) requirementIndexOptions() []string {
	var out []string
	for _, f := range c.requirementFilesRead(c.spec.Requirements) {
		for _, o := range spec.IndexOptions(c.files[f]) {
			if !slices.Contains(out, o) {
				out = append(out, o)
			}
		}
	}
	return out
}

// localFindLinks reports whether one of the requirement files (or what they include)
// names a --find-links directory of the build context: a package layer, whose inputs are
// its package's only, would not see it.
func (c *converter) localFindLinks(files []string) bool {
	for _, f := range c.requirementFilesRead(files) {
		refs, _ := spec.RequirementRefs(f, c.files[f])
		if slices.ContainsFunc(refs, func(r spec.Ref) bool { return r.Kind == spec.RefFindLinks }) {
			return true
		}
	}
	return false
}

// canMerge reports whether the BuildKit that runs the build has MergeOp and DiffOp:
// the Docker Engine's classic graphdriver store has neither (moby/moby#45153).
func (c *converter) canMerge() (ok bool) {
	// A capability set the daemon did not send (a converter made in a test) panics
	// when asked: no merge.
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	caps := c.bc.BuildOpts().LLBCaps
	return caps.Supports(pb.CapMergeOp) == nil && caps.Supports(pb.CapDiffOp) == nil
}

// withOwnInstallOptions marks what the requirement files of the installs say of their
// own that a wheel compiled here (wheels.go) would break: hashes (the install is then a lock's:
// its versions are exact, and every file must match a hash of theirs), and --no-binary
// (the installer refuses any wheel of those packages, ours too: they compile in the
// install).
func (c *converter) withOwnInstallOptions(cmds []command) []command {
	for i := range cmds {
		if cmds[i].project != nil {
			continue
		}
		if c.hashChecked(cmds[i].inputs) {
			// pip's hash-checking mode needs every package pinned in the files: what they
			// name is the whole set, which the resolution then gives even when a package
			// has no wheel for the target (not named-only).
			cmds[i].locked = true
			if cmds[i].resolve != nil && !slices.Contains(cmds[i].resolve, "--no-deps") {
				cmds[i].resolve = append(slices.Clone(cmds[i].resolve), "--no-deps")
			}
		}
		if c.inputsContain(cmds[i].inputs, "--no-binary") {
			cmds[i].noBinary = true
		}
	}
	return cmds
}

// hashChecked reports whether one of the requirement files (or what they include) pins
// hashes: their install checks them, which a package's own step would not.
func (c *converter) hashChecked(files []string) bool { return c.inputsContain(files, "--hash") }

// inputsContain reports whether one of the requirement files, or what they include,
// contains s.
func (c *converter) inputsContain(files []string, s string) bool {
	for _, f := range files {
		for _, p := range append([]string{f}, c.inputs[f]...) {
			if bytes.Contains(c.files[p], []byte(s)) {
				return true
			}
		}
	}
	return false
}

// layerGroups splits the packages into at most max layers. Up to max, each package is
// its own layer; beyond, a package's layer is chosen by its name alone, so a version
// bump (or a package added) changes one layer and leaves every other as it was.
func layerGroups(pkgs []plan.Package, max int) [][]plan.Package {
	if len(pkgs) <= max {
		out := make([][]plan.Package, len(pkgs))
		for i, p := range pkgs {
			out[i] = []plan.Package{p}
		}
		return out
	}
	buckets := make([][]plan.Package, max)
	for _, p := range pkgs {
		h := fnv.New32a()
		h.Write([]byte(p.Name))
		b := h.Sum32() % uint32(max)
		buckets[b] = append(buckets[b], p)
	}
	return slices.DeleteFunc(buckets, func(g []plan.Package) bool { return len(g) == 0 })
}

// compilesInLayer reports whether pkg, of layer group g, compiles in its layer's step
// rather than coming as the wheel its own stage built (wheels.go): a lock's package that
// shares its layer with others, whose step checks the lock's hashes, which that wheel
// does not have. Alone in its layer, it installs its wheel, as any compiled package.
func compilesInLayer(g []plan.Package, pkg plan.Package, lines map[string]string) bool {
	_, locked := lines[pkg.Name]
	return pkg.Compiles() && locked && len(g) > 1
}

// layerName is a package layer's progress name and image history entry. A package that
// compiles installs its wheel from its wheel stage, or builds in the step from its line
// of a lock (compilesInLayer).
func layerName(g []plan.Package, lines map[string]string) string {
	names := make([]string, len(g))
	for i, p := range g {
		names[i] = p.String()
		if compilesInLayer(g, p, lines) {
			names[i] += " (builds from source)"
		} else if p.Compiles() {
			names[i] += " (its wheel, compiled from source)"
		}
	}
	return strings.Join(names, ", ")
}

// layerCommand installs exactly the group's packages, at their resolved versions,
// without their dependencies (each is a layer of its own), from the build's index, as
// the one install would. A lock's package installs by its line of the lock (lines),
// checked against the lock's hashes. Other packages have no hashes: the resolver's are
// those of the target's files, which the test bed's glibc stand-in does not install, and
// a requirement file that pins its own installs as one layer (packageLayersOff). A
// compiled package installs the wheel its own stage built, but where compilesInLayer.
func layerCommand(a *spec.Acaifile, g []plan.Package, p *plan.Plan, lines map[string]string, fileOptions []string) command {
	cmd := requirementsCommand(a, nil, nil)
	var reqs strings.Builder
	var compiled []string
	for _, pkg := range g {
		line, ok := lines[pkg.Name]
		switch {
		case pkg.Compiles() && !compilesInLayer(g, pkg, lines):
			// Its wheel, compiled in its own stage (wheels.go), is on the command line.
			cmd.wheels = append(cmd.wheels, pkg.Name)
			continue
		case pkg.Compiles():
			compiled = append(compiled, pkg.Name)
		case !ok:
			line = pkg.Name + "==" + pkg.Version
		}
		reqs.WriteString(line + "\n")
	}
	cmd.args = append(cmd.args, "--no-deps")
	hashed := lines != nil && reqs.Len() > 0 && everyLineHashed(reqs.String())
	if reqs.Len() > 0 || len(fileOptions) > 0 {
		cmd.args = append(cmd.args, "-r", path.Join(requirementsMount, layerRequirementsFile))
		if hashed {
			cmd.args = append(cmd.args, "--require-hashes")
		}
	}
	if len(compiled) > 0 { // a lock's: installed by its line, checked against its hashes
		cmd.args = append(cmd.args, cmd.tool.NoBinary(compiled)...)
		cmd.hint = p.FailureHint()
	}
	// The requirement files' own index options first: the package comes from where they
	// say, as in the one install.
	cmd.generated = map[string][]byte{layerRequirementsFile: []byte(withOptionLines(fileOptions, reqs.String()))}
	cmd.resolve, cmd.resolveFiles = nil, nil
	cmd.what = layerName(g, lines)
	cmd.keys = []string{"requirements", "packages", "lock", "runtime.layers"}
	cmd.slim = slimmingFor(a)
	return cmd
}

// withOptionLines is a requirement file's text: the option lines, then reqs.
func withOptionLines(options []string, reqs string) string {
	if len(options) == 0 {
		return reqs
	}
	return strings.Join(options, "\n") + "\n" + reqs
}

// everyLineHashed reports whether each requirement line pins hashes: a uv.lock made
// against an index that serves none has none to check.
func everyLineHashed(reqs string) bool {
	for _, line := range strings.Split(strings.TrimSpace(reqs), "\n") {
		if !strings.Contains(line, "--hash=") {
			return false
		}
	}
	return true
}

// layersCompile reports whether a package layer's step compiles (compilesInLayer): the
// builder of the layers then needs the toolchain.
func (c *converter) layersCompile() bool {
	lines := c.pinnedLines()
	for _, g := range layerGroups(c.plan.Packages, c.spec.Runtime.MaxLayers) {
		if slices.ContainsFunc(g, func(pkg plan.Package) bool { return compilesInLayer(g, pkg, lines) }) {
			return true
		}
	}
	return false
}

// depsLayers installs the plan's packages one group per layer on the builder: the
// dependency directory as the runner gets it (deps, a merge of the layers on the
// builder, for the scan, the SBOM and the test stage) and the layers to merge into the
// runner, each with its progress name. The steps get no resolution mount: their
// inputs are their packages' only.
func (c *converter) depsLayers(builder llb.State) (deps llb.State, layers []llb.State, names []string) {
	skeleton := builder
	if c.spec.Runtime.Layout == spec.LayoutVenv {
		skeleton = c.venvSkeleton(builder)
		layers = append(layers, llb.Diff(builder, skeleton, c.opts(stageDeps, "layer: the venv")...))
		names = append(names, venvStep().Name)
	}
	lines, options := c.pinnedLines(), c.requirementIndexOptions()
	for _, g := range layerGroups(c.plan.Packages, c.spec.Runtime.MaxLayers) {
		cmd := layerCommand(c.spec, g, c.plan, lines, options)
		st := c.install(skeleton, []model.Run{cmd.step(stageDeps, cmd.what)}) // no resolution mount
		layers = append(layers, llb.Diff(skeleton, st, c.opts(stageDeps, "layer: "+cmd.what)...))
		names = append(names, cmd.what)
	}
	deps = llb.Merge(append([]llb.State{builder}, layers...), c.opts(stageDeps, fmt.Sprintf("merge %d package layers", len(layers)))...)
	return deps, layers, names
}

// projectInstalls are the installs of local projects among cmds (a uv.lock's or a
// Poetry project itself, a workspace's members): with package layers, one layer on top
// of the packages', re-run when the project changes.
func projectInstalls(cmds []command) []command {
	var out []command
	for _, cmd := range cmds {
		if cmd.project != nil {
			out = append(out, cmd)
		}
	}
	return out
}

// venvSkeleton is the builder with the empty venv the packages install into.
func (c *converter) venvSkeleton(builder llb.State) llb.State {
	return c.run(builder, venvStep()).Root()
}

// venvStep makes the empty venv the packages install into ([runtime] layout = "venv").
func venvStep() model.Run {
	args := []string{"python", "-m", "venv", "--without-pip", spec.VenvDir}
	return model.Run{Stage: stageDeps, Name: strings.Join(args, " "), Keys: []string{"python"}, Args: args}
}
