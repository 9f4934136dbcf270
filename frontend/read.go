package frontend

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sync"

	"github.com/acai-build/acai/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	fstypes "github.com/tonistiigi/fsutil/types"
)

// The read phase: the Acaifile's bytes parsed once (spec.Parse), the context files it
// depends on read (readContextFiles), then what they say applied (spec.WithContext): the
// Python of .python-version or requires-python, the lock found, a workspace's members and
// the lock's packages as requirement lines. The frontend reads BuildKit's build context,
// `acai eject` a directory: one contextReader each, one readInputs for both, so that the
// two read the same files and decide the same.

// contextReader reads a build context. Names are context paths (slash-separated,
// relative to its root); why names the read in the build's progress.
type contextReader interface {
	// read reads names in one go: the content, or the error, of each. With venvs, it also
	// finds the directories that hold a pyvenv.cfg (virtual environments).
	read(ctx context.Context, why string, names []string, venvs bool) (contents [][]byte, errs []error, venvDirs []string, err error)
	// exist reports which of paths (files or directories) the context holds.
	exist(ctx context.Context, why string, paths []string) (map[string]bool, error)
	// readMatching reads the files that patterns (context paths with * globs) match.
	readMatching(ctx context.Context, why string, patterns []string) (map[string][]byte, error)
	// ignored are the patterns of the context's ignore file (.dockerignore).
	ignored(ctx context.Context) ([]string, error)
}

// readInputs is the read phase over r: a (from spec.Parse) with the context applied, and
// the context files it depends on. Errors carry the line of the file at fault.
func readInputs(ctx context.Context, r contextReader, a *spec.Acaifile) (*spec.Acaifile, *contextFiles, error) {
	files, err := readContextFiles(ctx, r, a)
	if err != nil {
		return nil, nil, err
	}
	cf := spec.ContextFilesFrom(func(name string) ([]byte, bool) { dt, ok := files.data[name]; return dt, ok })
	if a, err = a.WithContext(cf); err != nil {
		return nil, nil, files.withFileSource(err) // .python-version's or requires-python's line
	}
	// A uv.lock project's workspace members, now that the lock is known (named or detected).
	if err := files.readWorkspace(ctx, r, a); err != nil {
		return nil, nil, err
	}
	switch a.LockKind() {
	case spec.LockPylock:
		files.lockRequirements, _ = spec.PylockRequirements(files.data[a.Lock])
		files.lockHashedRequirements, _ = spec.PylockIndexRequirements(files.data[a.Lock])
	case spec.LockUV: // its package layers' lines; the one install exports the lock in the build
		files.lockHashedRequirements = spec.UVLockRequirements(files.data[a.Lock])
	case spec.LockPoetry:
		pyproject := path.Join(a.ProjectDir(), spec.PyprojectFile)
		if files.lockRequirements, err = a.PoetryRequirements(files.data[a.Lock], files.data[pyproject]); err != nil {
			return nil, nil, files.withFileSource(err)
		}
	}
	return a, files, nil
}

// project is what the installs need to know of the project the context holds.
func (cf *contextFiles) project(a *spec.Acaifile) Project {
	return Project{
		Installable:            InstallsProject(a) && spec.HasBuildSystem(cf.data[path.Join(a.ProjectDir(), spec.PyprojectFile)]),
		LockRequirements:       cf.lockRequirements,
		LockHashedRequirements: cf.lockHashedRequirements,
		LockIndexes:            spec.UVLockIndexes(cf.data[a.Lock]),
		Members:                cf.members,
	}
}

// buildContext reads BuildKit's build context through dockerui: each read one small
// solve that transfers only the paths asked for. readFrom records, for each file read,
// the read that holds it: the install and resolve steps copy their inputs from these
// reads, not from the whole build context.
type buildContext struct {
	bc       *dockerui.Client
	readFrom map[string]llb.State
}

func newBuildContext(bc *dockerui.Client) *buildContext {
	return &buildContext{bc: bc, readFrom: map[string]llb.State{}}
}

func (b *buildContext) read(ctx context.Context, why string, names []string, venvs bool) ([][]byte, []error, []string, error) {
	opt := llb.FollowPaths(names)
	if venvs {
		opt = llb.IncludePatterns(append(slices.Clone(names), "**/"+spec.VenvMarker))
	}
	st, ref, err := solveContext(ctx, b.bc, opt, why)
	if err != nil {
		return nil, nil, nil, err
	}
	var contents [][]byte
	var errs []error
	var venvDirs []string
	if venvs {
		// The walk for virtual environments goes on while the files are read.
		var wg sync.WaitGroup
		wg.Go(func() { contents, errs = readFiles(ctx, ref, names) })
		venvDirs, err = findVenvs(ctx, ref)
		wg.Wait()
	} else {
		contents, errs = readFiles(ctx, ref, names)
	}
	for i, name := range names {
		if errs[i] == nil {
			b.readFrom[name] = st
		}
	}
	return contents, errs, venvDirs, err
}

func (b *buildContext) exist(ctx context.Context, why string, paths []string) (map[string]bool, error) {
	_, ref, err := solveContext(ctx, b.bc, llb.FollowPaths(paths), why)
	if err != nil {
		return nil, err
	}
	found := map[string]bool{}
	for _, p := range paths {
		_, err := ref.StatFile(ctx, client.StatRequest{Path: p})
		found[p] = err == nil
	}
	return found, nil
}

func (b *buildContext) readMatching(ctx context.Context, why string, patterns []string) (map[string][]byte, error) {
	st, ref, err := solveContext(ctx, b.bc, llb.IncludePatterns(patterns), why)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	err = walkRef(ctx, ref, func(p string, e *fstypes.Stat) error {
		if e.IsDir() {
			return nil
		}
		dt, err := ref.ReadFile(ctx, client.ReadRequest{Filename: p})
		if err != nil {
			return err
		}
		out[p], b.readFrom[p] = dt, st
		return nil
	})
	return out, err
}

// ignored: dockerui read the ignore file before it handed out the build context.
func (b *buildContext) ignored(ctx context.Context) ([]string, error) {
	return b.bc.DockerIgnorePatterns(ctx)
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

// diskContext reads a build context from a directory, for `acai eject`: the files as
// they are on disk. It does not apply the .dockerignore (eject leaves that to the build
// that runs its Dockerfile) and finds no virtual environments (eject's COPY of the app
// lists acai's default exclusions, which name the usual ones).
type diskContext struct{ root string }

// file is the path of the context path name on disk; nil error only inside root.
func (d diskContext) file(name string) (string, error) {
	if !filepath.IsLocal(filepath.FromSlash(name)) {
		return "", &fs.PathError{Op: "read", Path: name, Err: errors.New("outside the build context")}
	}
	return filepath.Join(d.root, filepath.FromSlash(name)), nil
}

func (d diskContext) read(_ context.Context, _ string, names []string, _ bool) ([][]byte, []error, []string, error) {
	contents, errs := make([][]byte, len(names)), make([]error, len(names))
	for i, name := range names {
		var p string
		if p, errs[i] = d.file(name); errs[i] == nil {
			contents[i], errs[i] = os.ReadFile(p)
		}
	}
	return contents, errs, nil, nil
}

func (d diskContext) exist(_ context.Context, _ string, paths []string) (map[string]bool, error) {
	found := map[string]bool{}
	for _, name := range paths {
		p, err := d.file(name)
		if err == nil {
			_, err = os.Stat(p)
		}
		found[name] = err == nil
	}
	return found, nil
}

func (d diskContext) readMatching(_ context.Context, _ string, patterns []string) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, pattern := range patterns {
		matches, err := filepath.Glob(filepath.Join(d.root, filepath.FromSlash(pattern)))
		if err != nil {
			return nil, err
		}
		for _, m := range matches {
			rel, err := filepath.Rel(d.root, m)
			if err != nil {
				return nil, err
			}
			if out[filepath.ToSlash(rel)], err = os.ReadFile(m); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func (d diskContext) ignored(context.Context) ([]string, error) { return nil, nil }

// EjectFile is `acai eject`: the Dockerfile of the Acaifile at file, whose directory is
// the build context, read as a build reads it (readInputs).
func EjectFile(ctx context.Context, file string) (string, error) {
	dt, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	a, err := spec.Parse(file, dt)
	if err != nil {
		return "", err
	}
	a, files, err := readInputs(ctx, diskContext{root: filepath.Dir(file)}, a)
	if err != nil {
		return "", err
	}
	return EjectProject(a, files.project(a)), nil
}
