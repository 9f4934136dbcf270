package frontend

import (
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/acai-build/acai/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	fstypes "github.com/tonistiigi/fsutil/types"
)

// contextFiles are the build context's files the Acaifile depends on, read before the
// graph is made: the requirement files, everything they make pip open, and (when
// `python` is not set) .python-version.
type contextFiles struct {
	data map[string][]byte // content of each file read; a file not in the context is absent
	// inputs maps each requirement file the Acaifile names to every context path pip
	// opens for it: itself, the files it includes (-r) or constrains with (-c), at any
	// depth, and the local projects and --find-links directories they name. These, and
	// nothing else, are the inputs of its install step.
	inputs map[string][]string
	// missing are the references whose file or directory the context does not hold:
	// lint reports the included files, a build fails on the first.
	missing []spec.Ref
	// venvs are the context's directories holding a pyvenv.cfg: virtual environments,
	// which the app copy leaves out.
	venvs []string
	// ignored are the patterns of the context's ignore file, as dockerui applies them to
	// the build context (read by dockerui, not through the build context: a .dockerignore
	// may list itself); its ! lines bring back what the app copy leaves out by default.
	ignored []string
	// lockRequirements are a poetry.lock's (or pylock.toml's) packages as a requirement file, exported
	// from the lock read here (spec.PoetryRequirements, spec.PylockRequirements).
	lockRequirements []byte
	// lockHashedRequirements are a pylock.toml's or a uv.lock's index packages as
	// pinned lines with the lock's hashes (spec.PylockIndexRequirements,
	// spec.UVLockRequirements): what a pylock.toml's install, and each package's own
	// layer, read.
	lockHashedRequirements []byte
	// members are the uv workspace's member directories, relative to the project's
	// (their pyproject.toml files are in data).
	members []string
	// readFrom is, for each file in data, the read of the context that holds it. The
	// install and resolve steps copy their inputs from these reads, not from the whole
	// build context: the same LLB, solved already, so the resolve does not wait for the
	// app's upload, and the install runs while it goes on.
	readFrom map[string]llb.State
}

// readContextFiles reads the files the Acaifile depends on from the build context
// (through .dockerignore, as the build sees them), one small solve per level of
// includes, each transferring only the paths asked for. A missing included file, local
// project or --find-links directory is recorded in missing (lint reports it; a build
// fails at the line that names it).
func readContextFiles(ctx context.Context, bc *dockerui.Client, a *spec.Acaifile) (*contextFiles, error) {
	cf := &contextFiles{data: map[string][]byte{}, inputs: map[string][]string{}, readFrom: map[string]llb.State{}}
	top := append(slices.Clone([]string(a.Requirements)), a.Test.Requirements...)
	pending := slices.Clone(top)
	plain := plainFiles(a)
	pending = append(pending, plain...)
	refs := map[string][]spec.Ref{}     // requirement file → what it names
	includedBy := map[string]spec.Ref{} // included file → the line that first names it
	var paths []spec.Ref                // local projects and --find-links directories
	// Level 0 runs even with nothing to read: it also finds the virtual environments.
	for level := 0; level == 0 || len(pending) > 0; level++ {
		st, contents, errs, err := cf.readLevel(ctx, bc, level, pending)
		if err != nil {
			return nil, err
		}
		var next []string
		for i, name := range pending {
			dt, err := contents[i], errs[i]
			if err != nil {
				if r, ok := includedBy[name]; ok {
					cf.missing = append(cf.missing, r)
				}
				continue // a top-level file: reported by MissingRequirementFile
			}
			cf.data[name], cf.readFrom[name] = dt, st
			if slices.Contains(plain, name) {
				continue
			}
			rs, err := spec.RequirementRefs(name, dt)
			if err != nil {
				return nil, withSource(err, fileSourceMap(name, dt))
			}
			refs[name] = rs
			for _, r := range rs {
				switch r.Kind {
				case spec.RefRequirements, spec.RefConstraints:
					if _, seen := includedBy[r.Paths[0]]; !seen && !slices.Contains(top, r.Paths[0]) {
						includedBy[r.Paths[0]] = r
						next = append(next, r.Paths[0])
					}
				default:
					paths = append(paths, r)
				}
			}
		}
		pending = next
	}
	if err := cf.findPaths(ctx, bc, top, refs, paths); err != nil {
		return nil, err
	}
	// Known already: dockerui read the ignore file before it handed out the build context.
	var err error
	if cf.ignored, err = bc.DockerIgnorePatterns(ctx); err != nil {
		return nil, err
	}
	return cf, nil
}

// findPaths looks up the local projects and --find-links directories the requirement
// files name (paths): those missing are reported, and each top-level file's inputs are
// every context path pip opens for it.
func (cf *contextFiles) findPaths(ctx context.Context, bc *dockerui.Client, top []string, refs map[string][]spec.Ref, paths []spec.Ref) error {
	found, err := existingPaths(ctx, bc, paths)
	if err != nil {
		return err
	}
	for _, r := range paths {
		if found[refKey(r)] == "" {
			cf.missing = append(cf.missing, r)
		}
	}
	for _, f := range top {
		if _, ok := cf.data[f]; ok {
			cf.inputs[f] = closure(f, refs, found)
		}
	}
	return nil
}

// plainFiles are the context files acai reads as they are, not as requirement files:
// .python-version and pyproject.toml (its requires-python) when `python` is not set,
// the lock and its pyproject.toml, or, with nothing to install named, the locks and
// pyproject.toml it looks for.
func plainFiles(a *spec.Acaifile) []string {
	var plain []string
	if _, set := a.Source.Span("python"); !set {
		plain = append(plain, spec.PythonVersionFile, spec.PyprojectFile)
	}
	switch {
	case a.LockKind() == spec.LockUV: // its indexes are read (spec.UVLockIndexes)
		plain = append(plain, a.Lock, path.Join(a.ProjectDir(), "pyproject.toml"))
	case a.LockKind() == spec.LockPoetry: // exported here: read as well
		plain = append(plain, a.Lock, path.Join(a.ProjectDir(), "pyproject.toml"))
	case a.LockKind() == spec.LockPylock: // its packages are resolved for the target
		plain = append(plain, a.Lock)
	case a.Lock == "" && len(a.Requirements)+len(a.Packages) == 0:
		// Nothing to install named: look for a project and its lock (spec.DetectedLocks).
		plain = append(plain, append(slices.Clone(spec.DetectedLocks), "pyproject.toml")...)
	}
	var once []string // pyproject.toml may come twice
	for _, f := range plain {
		if !slices.Contains(once, f) {
			once = append(once, f)
		}
	}
	return once
}

// readLevel reads one level of requirement files (level 0: those the Acaifile names;
// then what they include) in one solve of the context; the first also finds the
// virtual environments, at the same time as the reads.
func (cf *contextFiles) readLevel(ctx context.Context, bc *dockerui.Client, level int, pending []string) (llb.State, [][]byte, []error, error) {
	if level > 0 {
		st, ref, err := solveContext(ctx, bc, llb.FollowPaths(pending), "load included requirement files")
		if err != nil {
			return st, nil, nil, err
		}
		contents, errs := readFiles(ctx, ref, pending)
		return st, contents, errs, nil
	}
	st, ref, err := solveContext(ctx, bc, llb.IncludePatterns(append(slices.Clone(pending), "**/"+spec.VenvMarker)), "load requirement files")
	if err != nil {
		return st, nil, nil, err
	}
	var contents [][]byte
	var errs []error
	var wg sync.WaitGroup
	wg.Go(func() { contents, errs = readFiles(ctx, ref, pending) })
	cf.venvs, err = findVenvs(ctx, ref)
	wg.Wait()
	return st, contents, errs, err
}

// readWorkspace finds the members of a uv.lock project's workspace
// ([tool.uv.workspace]) and reads their pyproject.toml files, which uv reads to check
// the lock: one more small solve, only for a workspace.
func (cf *contextFiles) readWorkspace(ctx context.Context, bc *dockerui.Client, a *spec.Acaifile) error {
	if a.LockKind() != spec.LockUV {
		return nil
	}
	dir := a.ProjectDir()
	ws := spec.UVWorkspaceOf(cf.data[path.Join(dir, spec.PyprojectFile)])
	if ws == nil {
		return nil
	}
	st, ref, err := solveContext(ctx, bc, llb.IncludePatterns(ws.MemberPatterns(dir)), "load the uv workspace members' pyproject.toml")
	if err != nil {
		return err
	}
	err = walkRef(ctx, ref, func(p string, e *fstypes.Stat) error {
		member, err := filepathRel(dir, path.Dir(p))
		if e.IsDir() || e.Path != spec.PyprojectFile || err != nil || member == "." || ws.Excludes(member) {
			return nil
		}
		dt, err := ref.ReadFile(ctx, client.ReadRequest{Filename: p})
		if err != nil {
			return err
		}
		cf.data[p], cf.readFrom[p] = dt, st
		cf.members = append(cf.members, member)
		return nil
	})
	if err != nil {
		return err
	}
	slices.Sort(cf.members)
	return nil
}

// filepathRel is target relative to base, both clean slash paths, target inside base.
func filepathRel(base, target string) (string, error) {
	if base == "." {
		return target, nil
	}
	if target == base {
		return ".", nil
	}
	if rest, ok := strings.CutPrefix(target, base+"/"); ok {
		return rest, nil
	}
	return "", fmt.Errorf("%s is not inside %s", target, base)
}

// findVenvs lists the directories holding a pyvenv.cfg in ref, a read of the context
// that includes those files (the walk of the context happens on the client, which sends
// only what the patterns select).
func findVenvs(ctx context.Context, ref client.Reference) ([]string, error) {
	var venvs []string
	err := walkRef(ctx, ref, func(p string, e *fstypes.Stat) error {
		if e.Path == spec.VenvMarker && path.Dir(p) != "." {
			venvs = append(venvs, path.Dir(p))
		}
		return nil
	})
	return venvs, err
}

// maxListedDirs bounds the directories walkRef lists, so that a context with a huge .git
// or .venv stays quick to read; what lies beyond is not visited.
const maxListedDirs = 20000

// walkRef calls visit for every entry of ref, depth first, with its path relative to the
// context's root. ref is a read of the context that holds only what its patterns
// selected: the walk of the context itself happened on the client, which sent only that.
func walkRef(ctx context.Context, ref client.Reference, visit func(p string, e *fstypes.Stat) error) error {
	listed := 0
	var walk func(dir string) error
	walk = func(dir string) error {
		if listed++; listed > maxListedDirs {
			return nil
		}
		entries, err := ref.ReadDir(ctx, client.ReadDirRequest{Path: "/" + dir})
		if err != nil {
			return err
		}
		for _, e := range entries {
			p := path.Join(dir, e.Path)
			if err := visit(p, e); err != nil {
				return err
			}
			if e.IsDir() {
				if err := walk(p); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk("")
}

// closure is file and everything it makes pip open, sorted.
func closure(file string, refs map[string][]spec.Ref, found map[string]string) []string {
	set := map[string]bool{}
	var walk func(string)
	walk = func(f string) {
		if set[f] {
			return
		}
		set[f] = true
		for _, r := range refs[f] {
			if p, ok := found[refKey(r)]; ok {
				set[p] = true
			} else {
				walk(r.Paths[0])
			}
		}
	}
	walk(file)
	return slices.Sorted(maps.Keys(set))
}

// existingPaths picks, for each local project or --find-links reference, the first of
// its candidate paths the context holds ("" when none): what pip would open.
func existingPaths(ctx context.Context, bc *dockerui.Client, refs []spec.Ref) (map[string]string, error) {
	found := map[string]string{}
	if len(refs) == 0 {
		return found, nil
	}
	var candidates []string
	for _, r := range refs {
		candidates = append(candidates, r.Paths...)
	}
	_, ref, err := solveContext(ctx, bc, llb.FollowPaths(candidates), "load local paths of requirement files")
	if err != nil {
		return nil, err
	}
	for _, r := range refs {
		found[refKey(r)] = ""
		for _, p := range r.Paths {
			if _, err := ref.StatFile(ctx, client.StatRequest{Path: p}); err == nil {
				found[refKey(r)] = p
				break
			}
		}
	}
	return found, nil
}

// refKey names a reference by its place: one reference a line.
func refKey(r spec.Ref) string { return fmt.Sprintf("%s:%d", r.File, r.Line) }

// readFiles reads names from ref at once (each read is a round trip to BuildKit): the
// content or the error of each.
func readFiles(ctx context.Context, ref client.Reference, names []string) ([][]byte, []error) {
	contents, errs := make([][]byte, len(names)), make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { contents[i], errs[i] = ref.ReadFile(ctx, client.ReadRequest{Filename: name}) })
	}
	wg.Wait()
	return contents, errs
}

// solveContext is the build context reduced by opt (the paths it follows or includes):
// its state, and that state solved.
func solveContext(ctx context.Context, bc *dockerui.Client, opt llb.LocalOption, name string) (llb.State, client.Reference, error) {
	st, err := bc.MainContext(ctx, opt, dockerui.WithInternalName(name))
	if err != nil {
		return llb.State{}, nil, err
	}
	ref, err := solve(ctx, bc, st)
	return *st, ref, err
}

func solve(ctx context.Context, bc *dockerui.Client, st *llb.State) (client.Reference, error) {
	def, err := st.Marshal(ctx)
	if err != nil {
		return nil, err
	}
	res, err := bc.GatewayClient().Solve(ctx, client.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return nil, err
	}
	return res.SingleRef()
}

// missingError is the build's error for the first missing reference, at its
// requirement-file line and shown with that file; nil when nothing is missing.
func (cf *contextFiles) missingError() error {
	if len(cf.missing) == 0 {
		return nil
	}
	r := cf.missing[0]
	err := &spec.Error{Filename: r.File, Range: spec.Range{Start: spec.Position{Line: r.Line, Column: 1}, End: spec.Position{Line: r.Line, Column: 1}},
		Msg:  fmt.Sprintf("%q: %s is not in the build context (check the path and .dockerignore)", r.Text, strings.Join(slices.Compact(r.Paths), " or ")),
		Hint: "add it to the build context, or fix the path (-r and -c are relative to the requirement file; local projects to the context's root)"}
	return withSource(err, fileSourceMap(r.File, cf.data[r.File]))
}

// transferExcludes are the exclude patterns of the build context's transfer: what the app
// copy leaves out by default (appExcludes: .git, virtual environments, caches, ...) is
// not sent to the daemon at all, so a large .venv or .git costs no upload. Later patterns
// win: the paths the install reads come back even inside a default exclusion (a wheel in
// dist/ named by a requirement file), and the context's ignore file comes last, so its
// own exclusions and ! lines decide over both.
func (cf *contextFiles) transferExcludes(appExcludes []string) []string {
	var needed []string
	for _, in := range cf.inputs {
		needed = append(needed, in...)
	}
	needed = append(needed, slices.Collect(maps.Keys(cf.data))...)
	slices.Sort(needed)
	out := slices.Clone(appExcludes)
	for _, p := range slices.Compact(needed) {
		if p != "." {
			out = append(out, "!"+p)
		}
	}
	return append(out, cf.ignored...)
}

// excludedSizes measures, for --check, the directories the app copy leaves out
// (patterns: spec.ExcludedByName of the app excludes), as the total size of their files
// by directory path, up to maxListedDirs directories (then a lower bound). It reads them
// from the context: only --check does this, never a build.
func excludedSizes(ctx context.Context, bc *dockerui.Client, patterns []string) (map[string]int64, error) {
	if len(patterns) == 0 {
		return nil, nil
	}
	_, ref, err := solveContext(ctx, bc, llb.IncludePatterns(patterns), "measure what the app copy leaves out")
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, p := range patterns {
		names[path.Base(p)] = true
	}
	sizes := map[string]int64{}
	err = walkRef(ctx, ref, func(p string, e *fstypes.Stat) error {
		if e.IsDir() {
			return nil
		}
		// Attributed to the outermost excluded directory that holds it.
		parts := strings.Split(p, "/")
		for i := range parts[:len(parts)-1] {
			if dir := strings.Join(parts[:i+1], "/"); names[parts[i]] || slices.Contains(patterns, dir) {
				sizes[dir] += e.Size
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return sizes, nil
}
