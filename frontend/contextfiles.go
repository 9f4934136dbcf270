package frontend

import (
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/acai-build/acai/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
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
func readContextFiles(ctx context.Context, r contextReader, a *spec.Acaifile) (*contextFiles, error) {
	cf := &contextFiles{data: map[string][]byte{}, inputs: map[string][]string{}}
	top := append(slices.Clone([]string(a.Requirements)), a.Test.Requirements...)
	pending := slices.Clone(top)
	plain := plainFiles(a)
	pending = append(pending, plain...)
	refs := map[string][]spec.Ref{}     // requirement file → what it names
	includedBy := map[string]spec.Ref{} // included file → the line that first names it
	var paths []spec.Ref                // local projects and --find-links directories
	// Level 0 runs even with nothing to read: it also finds the virtual environments.
	for level := 0; level == 0 || len(pending) > 0; level++ {
		why := "load requirement files"
		if level > 0 {
			why = "load included requirement files"
		}
		// The first read also finds the virtual environments, at the same time.
		contents, errs, venvs, err := r.read(ctx, why, pending, level == 0)
		if level == 0 {
			cf.venvs = venvs
		}
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
			cf.data[name] = dt
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
	if err := cf.findPaths(ctx, r, top, refs, paths); err != nil {
		return nil, err
	}
	var err error
	if cf.ignored, err = r.ignored(ctx); err != nil {
		return nil, err
	}
	return cf, nil
}

// findPaths looks up the local projects and --find-links directories the requirement
// files name (paths): those missing are reported, and each top-level file's inputs are
// every context path pip opens for it.
func (cf *contextFiles) findPaths(ctx context.Context, r contextReader, top []string, refs map[string][]spec.Ref, paths []spec.Ref) error {
	found, err := existingPaths(ctx, r, paths)
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
	case a.LooksForProject():
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

// readWorkspace finds the members of a uv.lock project's workspace
// ([tool.uv.workspace]) and reads their pyproject.toml files, which uv reads to check
// the lock: one more small solve, only for a workspace.
func (cf *contextFiles) readWorkspace(ctx context.Context, r contextReader, a *spec.Acaifile) error {
	if a.LockKind() != spec.LockUV {
		return nil
	}
	dir := a.ProjectDir()
	ws := spec.UVWorkspaceOf(cf.data[path.Join(dir, spec.PyprojectFile)])
	if ws == nil {
		return nil
	}
	found, err := r.readMatching(ctx, "load the uv workspace members' pyproject.toml", ws.MemberPatterns(dir))
	if err != nil {
		return err
	}
	for p, dt := range found {
		member, err := filepathRel(dir, path.Dir(p))
		if path.Base(p) != spec.PyprojectFile || err != nil || member == "." || ws.Excludes(member) {
			continue
		}
		cf.data[p] = dt
		cf.members = append(cf.members, member)
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
func existingPaths(ctx context.Context, r contextReader, refs []spec.Ref) (map[string]string, error) {
	found := map[string]string{}
	if len(refs) == 0 {
		return found, nil
	}
	var candidates []string
	for _, r := range refs {
		candidates = append(candidates, r.Paths...)
	}
	exist, err := r.exist(ctx, "load local paths of requirement files", candidates)
	if err != nil {
		return nil, err
	}
	for _, r := range refs {
		found[refKey(r)] = ""
		for _, p := range r.Paths {
			if exist[p] {
				found[refKey(r)] = p
				break
			}
		}
	}
	return found, nil
}

// refKey names a reference by its place: one reference a line.
func refKey(r spec.Ref) string { return fmt.Sprintf("%s:%d", r.File, r.Line) }

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
