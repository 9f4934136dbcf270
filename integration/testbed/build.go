package testbed

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/acai-build/acai/frontend"
	"github.com/acai-build/acai/spec"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/moby/buildkit/client"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/tonistiigi/fsutil"
)

// Build describes one build of an Acaifile.
type Build struct {
	Dir      string            // build context; the Acaifile is read from here too
	Filename string            // default "Acaifile"
	Target   string            // --target
	Args     map[string]string // --build-arg
	Contexts map[string]string // --build-context NAME=VALUE
	Opts     map[string]string // any other frontend attribute
	Secrets  map[string]string // --secret id=ID,src=FILE
	PushAs   string            // also push the image to the loopback registry under this name
	Addr     string            // another buildkitd's address (buildctl builds); default the test bed's
	Client   *client.Client    // another buildkitd's client (in-process builds); default the test bed's
	Output   string            // more attributes of buildctl's OCI --output (rewrite-timestamp=true)
	Progress string            // buildctl's --progress; default plain, whose steps Result has
}

func (o Build) attrs() map[string]string {
	a := map[string]string{"filename": o.Filename}
	if a["filename"] == "" {
		a["filename"] = "Acaifile"
	}
	if o.Target != "" {
		a["target"] = o.Target
	}
	for k, v := range o.Args {
		a["build-arg:"+k] = v
	}
	for k, v := range o.Contexts {
		a["context:"+k] = v
	}
	for k, v := range o.Opts {
		a[k] = v
	}
	return a
}

// StandinBuild is a build of the Acaifile (or Dockerfile) in dir on the test bed's
// stand-ins for what a build reaches outside the machine: the base image the Acaifile
// resolves to (python:X-alpineY, base, or python:3.12-alpine3.24 when the file does not
// parse as an Acaifile) replaced by the runner stand-in through a named build context,
// the way a user replaces a base image with a mirror; and PyPI replaced by the loopback
// index through the index build args pip and uv read, which also bring acai its uv
// (the pinned wheel, from that index). The one place that knows what a build needs
// here: the quickstart, the tests and the bench all start from it.
func (b *Bed) StandinBuild(dir, filename string) Build {
	base, name := "python:3.12-alpine3.24", filename
	if name == "" {
		name = "Acaifile"
	}
	if dt, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
		// With the context's files, as the frontend parses it: .python-version and
		// requires-python choose the Python when the Acaifile does not.
		files := spec.ContextFilesFrom(func(f string) ([]byte, bool) {
			data, err := os.ReadFile(filepath.Join(dir, f))
			return data, err == nil
		})
		if a, err := spec.ParseWithContext(name, dt, files); err == nil {
			base = a.BaseImage()
		} else if a, err := spec.Parse(name, dt); err == nil {
			base = a.BaseImage()
		}
	}
	return Build{Dir: dir, Filename: filename, Contexts: b.StandinFor(base), Args: b.IndexArgs()}
}

// IndexArgs are the build args that point pip and uv at the loopback index.
func (b *Bed) IndexArgs() map[string]string {
	return map[string]string{"PIP_INDEX_URL": b.Index.URL, "UV_INDEX_URL": b.Index.URL}
}

// StandinFor replaces the base image ref by the runner stand-in.
func (b *Bed) StandinFor(ref string) map[string]string {
	return map[string]string{ref: "docker-image://" + b.RunnerStandin}
}

// Result is a finished build: the image (exported as an OCI layout) and the progress.
type Result struct {
	*Image
	Steps    []Step            // every vertex BuildKit reported, in first-seen order
	Warnings []string          // the build's warnings (in-process builds)
	Log      string            // plain progress (buildctl) or the step names (in-process)
	Response map[string]string // the frontend's result metadata (subrequest answers)
}

// Step is one vertex of the build's progress.
type Step struct {
	Name     string
	Cached   bool
	Error    string
	Duration time.Duration // from start to completion, as BuildKit reported them
	// Transferred is what a local source sent from the client ("transferring
	// context: 2.1kB"), in bytes (in-process builds).
	Transferred int64
}

// Step finds the step whose name contains s.
func (r *Result) Step(s string) (Step, bool) {
	for _, st := range r.Steps {
		if strings.Contains(st.Name, s) {
			return st, true
		}
	}
	return Step{}, false
}

var buildSeq atomic.Int64

// BuildInProcess runs the frontend's Build function in this process through the Go
// client, as BuildKit would run it from the frontend image, and unpacks the image.
func (b *Bed) BuildInProcess(ctx context.Context, o Build) (*Result, error) {
	dir, tarPath := b.newOutput()
	exports := []client.ExportEntry{ociExport(tarPath)}
	if o.PushAs != "" {
		exports = append(exports, client.ExportEntry{Type: client.ExporterImage,
			Attrs: map[string]string{"name": o.PushAs, "push": "true", "registry.insecure": "true"}})
	}
	if o.Opts["requestid"] != "" {
		exports = nil // a subrequest (--check, --call) answers in metadata, not an image
	}
	res, err := b.solveInProcess(ctx, o, exports)
	if err != nil || exports == nil {
		return res, err
	}
	res.Image, err = b.openImage(dir, tarPath)
	return res, err
}

// BuildToOCI builds in-process and leaves the OCI export unpacked at dest+".d",
// without unpacking an image: for multi-platform results.
func (b *Bed) BuildToOCI(ctx context.Context, o Build, dest string) (*Result, error) {
	res, err := b.solveInProcess(ctx, o, []client.ExportEntry{ociExport(dest)})
	if err != nil {
		return res, err
	}
	os.MkdirAll(dest+".d", 0o755)
	if out, err := exec.Command("tar", "-xf", dest, "-C", dest+".d").CombinedOutput(); err != nil {
		return res, fmt.Errorf("untar: %v: %s", err, out)
	}
	return res, nil
}

func ociExport(tarPath string) client.ExportEntry {
	return client.ExportEntry{
		Type:   client.ExporterOCI,
		Attrs:  map[string]string{"name": "acai-test:latest"},
		Output: func(map[string]string) (io.WriteCloser, error) { return os.Create(tarPath) },
	}
}

func (b *Bed) solveInProcess(ctx context.Context, o Build, exports []client.ExportEntry) (*Result, error) {
	fs, err := fsutil.NewFS(o.Dir)
	if err != nil {
		return nil, err
	}
	var attachables []session.Attachable
	if len(o.Secrets) > 0 {
		var srcs []secretsprovider.Source
		for id, file := range o.Secrets {
			srcs = append(srcs, secretsprovider.Source{ID: id, FilePath: file})
		}
		store, err := secretsprovider.NewStore(srcs)
		if err != nil {
			return nil, err
		}
		attachables = append(attachables, secretsprovider.NewSecretProvider(store))
	}
	// As buildx does for --check and --call, read the answer inside the build function.
	metadata := map[string]string{}
	build := func(ctx context.Context, c gateway.Client) (*gateway.Result, error) {
		r, err := frontend.Build(ctx, c)
		if r != nil {
			for k, v := range r.Metadata {
				metadata[k] = string(v)
			}
		}
		return r, err
	}
	ch := make(chan *client.SolveStatus)
	rec := newRecorder(ch)
	c := b.Client
	if o.Client != nil {
		c = o.Client
	}
	_, err = c.Build(ctx, client.SolveOpt{
		LocalMounts:   map[string]fsutil.FS{"context": fs, "dockerfile": fs},
		FrontendAttrs: o.attrs(),
		Session:       attachables,
		Exports:       exports,
	}, "", build, ch)
	steps, warnings := rec.wait()
	res := &Result{Steps: steps, Warnings: warnings, Log: stepLog(steps), Response: metadata}
	if err != nil {
		return res, fmt.Errorf("%w\nprogress:\n%s", err, res.Log)
	}
	return res, nil
}

// BuildWithBuildctl is the user's path: buildctl builds with the Dockerfile frontend. An
// Acaifile's first line names the acai frontend image (# syntax=...), to which the
// Dockerfile frontend forwards, exactly as `docker buildx build -f Acaifile .` does; a
// Dockerfile (an ejected one) is built by the Dockerfile frontend itself.
func (b *Bed) BuildWithBuildctl(ctx context.Context, o Build) (*Result, error) {
	dir, tarPath := b.newOutput()
	res, err := b.buildctl(ctx, o, tarPath)
	if err != nil {
		return res, err
	}
	res.Image, err = b.openImage(dir, tarPath)
	return res, err
}

// BuildctlToOCI builds the user's way, with more buildctl flags (--export-cache, ...),
// and leaves the OCI export unpacked at the returned directory, without opening an
// image: for exports that hold attestations. On failure, the path is the OCI tarball
// buildctl was to write.
func (b *Bed) BuildctlToOCI(ctx context.Context, o Build, flags ...string) (*Result, string, error) {
	dir, tarPath := b.newOutput()
	res, err := b.buildctl(ctx, o, tarPath, flags...)
	if err != nil {
		return res, tarPath, err // where the image would have been written
	}
	if out, err := exec.Command("tar", "-xf", tarPath, "-C", dir).CombinedOutput(); err != nil {
		return res, "", fmt.Errorf("untar: %v: %s", err, out)
	}
	return res, dir, os.Remove(tarPath)
}

// BuildctlToLocal builds the user's way and writes the result's files into dest
// (--output type=local,dest=...): for targets whose result is files, not an image.
func (b *Bed) BuildctlToLocal(ctx context.Context, o Build, dest string, flags ...string) (*Result, error) {
	return b.buildctl(ctx, o, "", append([]string{"--output", "type=local,dest=" + dest}, flags...)...)
}

// BuildctlNoExport builds the user's way into the daemon's own image store (no push, no
// tarball: a build without export would leave the result unevaluated): what a benchmark
// times.
func (b *Bed) BuildctlNoExport(ctx context.Context, o Build) (*Result, error) {
	return b.buildctl(ctx, o, "", "--output", "type=image,name=acai-bench/result:latest,push=false")
}

// BuildctlPush builds the user's way and pushes the image to ref (a name in the loopback
// registry), with more image exporter options (compression=zstd,...): what a CI job does.
func (b *Bed) BuildctlPush(ctx context.Context, o Build, ref, exporterOpts string) (*Result, error) {
	out := "type=image,name=" + ref + ",push=true"
	if exporterOpts != "" {
		out += "," + exporterOpts
	}
	return b.buildctl(ctx, o, "", "--output", out)
}

// BuildctlRequest runs buildctl with no output: for a subrequest (o.Opts["requestid"]:
// --call plan, --check), which answers in metadata.
func (b *Bed) BuildctlRequest(ctx context.Context, o Build) (*Result, error) {
	return b.buildctl(ctx, o, "")
}

func (b *Bed) buildctl(ctx context.Context, o Build, tarPath string, flags ...string) (*Result, error) {
	addr := b.Socket
	if o.Addr != "" {
		addr = o.Addr
	}
	args := []string{"--addr", addr, "build", "--progress=" + cmp.Or(o.Progress, "plain"), "--frontend", "dockerfile.v0",
		"--local", "context=" + o.Dir, "--local", "dockerfile=" + o.Dir}
	if tarPath != "" {
		out := "type=oci,name=acai-test:latest,dest=" + tarPath
		if o.Output != "" {
			out += "," + o.Output
		}
		args = append(args, "--output", out)
	}
	for _, k := range slices.Sorted(maps.Keys(o.attrs())) {
		args = append(args, "--opt", k+"="+o.attrs()[k])
	}
	for id, file := range o.Secrets {
		args = append(args, "--secret", "id="+id+",src="+file)
	}
	cmd := exec.CommandContext(ctx, filepath.Join(b.Cache, "bin/buildctl"), append(args, flags...)...)
	out, err := cmd.CombinedOutput()
	res := &Result{Log: string(out), Steps: parsePlainProgress(string(out))}
	if err != nil {
		return res, fmt.Errorf("buildctl build: %v\n%s", err, tail(string(out), 6000))
	}
	return res, nil
}

// RegistryBlobs is the directory where the loopback registry keeps its blobs (images
// and cache exports pushed to it).
func (b *Bed) RegistryBlobs() string { return filepath.Join(b.tmp, "registry-blobs") }

func (b *Bed) newOutput() (dir, tarPath string) {
	dir = filepath.Join(b.tmp, fmt.Sprintf("image-%d", buildSeq.Add(1)))
	os.MkdirAll(dir, 0o755)
	return dir, dir + ".tar"
}

// Image is a built image, unpacked: its OCI layout, config and root filesystem.
type Image struct {
	Layout string
	OCI    v1.Image // the image in the layout: its layers and raw config
	Config *v1.ConfigFile
	Bundle string // umoci bundle: rootfs/ and config.json
	tmp    string
}

func (b *Bed) openImage(dir, tarPath string) (*Image, error) {
	if out, err := exec.Command("tar", "-xf", tarPath, "-C", dir).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("untar OCI export: %v: %s", err, out)
	}
	os.Remove(tarPath)
	return b.OpenLayout(dir)
}

// OpenLayout unpacks the one image of the OCI layout dir (an unpacked OCI export).
func (b *Bed) OpenLayout(dir string) (*Image, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	if len(m.Manifests) != 1 {
		return nil, fmt.Errorf("OCI export has %d manifests, want 1", len(m.Manifests))
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		return nil, err
	}
	return b.unpack(dir, img)
}

// unpack unpacks img of the OCI layout dir (tagged latest there) with umoci.
func (b *Bed) unpack(dir string, img v1.Image) (*Image, error) {
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	bundle := dir + "-bundle"
	if out, err := exec.Command("umoci", "unpack", "--image", dir+":latest", bundle).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("umoci unpack: %v: %s", err, out)
	}
	return &Image{Layout: dir, OCI: img, Config: cfg, Bundle: bundle, tmp: b.tmp}, nil
}

// OpenPlatform unpacks the image of one platform (an architecture: "arm64") from a
// multi-platform index, as its own OCI layout: unpacking runs nothing of it.
func (b *Bed) OpenPlatform(idx v1.ImageIndex, arch string) (*Image, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	for _, d := range m.Manifests {
		if d.Platform == nil || d.Platform.Architecture != arch {
			continue
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			return nil, err
		}
		dir, _ := b.newOutput()
		p, err := layout.Write(dir, empty.Index)
		if err != nil {
			return nil, err
		}
		if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "latest"})); err != nil {
			return nil, err
		}
		return b.unpack(dir, img)
	}
	return nil, fmt.Errorf("no %s image in the index", arch)
}

// Remove deletes the image's OCI layout and unpacked bundle: a test suite's images
// would otherwise fill the disk before the test bed closes.
func (i *Image) Remove() {
	os.RemoveAll(i.Layout)
	os.RemoveAll(i.Bundle)
}

// Rootfs is the unpacked root filesystem.
func (i *Image) Rootfs() string { return filepath.Join(i.Bundle, "rootfs") }

// ReadFile reads a file of the image's filesystem.
func (i *Image) ReadFile(p string) ([]byte, error) {
	return os.ReadFile(filepath.Join(i.Rootfs(), p))
}

// Exists reports whether a path (glob allowed) exists in the image.
func (i *Image) Exists(pattern string) bool {
	m, _ := filepath.Glob(filepath.Join(i.Rootfs(), pattern))
	return len(m) > 0
}

// Env is the image config's environment as a map.
func (i *Image) Env() map[string]string {
	m := map[string]string{}
	for _, kv := range i.Config.Config.Env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

var runSeq atomic.Int64

// Run runs the image as `docker run IMAGE args...` would: its entrypoint, with args in
// place of its CMD when given, as its user, in its workdir, with its env (umoci turns
// the image config into the runtime config), under runc. It returns the output.
func (i *Image) Run(ctx context.Context, args ...string) (string, error) {
	if len(args) == 0 {
		return i.run(ctx, nil)
	}
	return i.run(ctx, append(append([]string{}, i.Config.Config.Entrypoint...), args...))
}

// Exec runs argv in the image in place of its entrypoint and CMD (docker run
// --entrypoint), with the image's user, workdir and env.
func (i *Image) Exec(ctx context.Context, argv ...string) (string, error) {
	return i.run(ctx, argv)
}

// RunOpts are what `docker run` flags a test needs beyond the image's own settings.
type RunOpts struct {
	Env         []string // -e KEY=VALUE, added to the image's environment
	HostNetwork bool     // --network host: the container reaches the test's loopback servers
}

// RunWith runs the image's entrypoint and CMD, as Run does, with opts.
func (i *Image) RunWith(ctx context.Context, opts RunOpts) (string, error) {
	return i.runWith(ctx, nil, opts)
}

func (i *Image) run(ctx context.Context, argv []string) (string, error) {
	return i.runWith(ctx, argv, RunOpts{})
}

func (i *Image) runWith(ctx context.Context, argv []string, opts RunOpts) (string, error) {
	// Every run starts from the runtime config umoci made from the image config, kept
	// aside on the first run, so one run's options never leak into the next.
	cfgPath := filepath.Join(i.Bundle, "config.json")
	origPath := filepath.Join(i.Bundle, "config.orig.json")
	raw, err := os.ReadFile(origPath)
	if os.IsNotExist(err) {
		if raw, err = os.ReadFile(cfgPath); err == nil {
			err = os.WriteFile(origPath, raw, 0o644)
		}
	}
	if err != nil {
		return "", err
	}
	var spec map[string]any
	if err := json.Unmarshal(raw, &spec); err != nil {
		return "", err
	}
	proc := spec["process"].(map[string]any)
	proc["terminal"] = false
	if argv != nil {
		proc["args"] = argv
	}
	if len(opts.Env) > 0 {
		env, _ := proc["env"].([]any)
		for _, kv := range opts.Env {
			env = append(env, kv)
		}
		proc["env"] = env
	}
	if opts.HostNetwork {
		linux := spec["linux"].(map[string]any)
		var keep []any
		for _, ns := range linux["namespaces"].([]any) {
			if ns.(map[string]any)["type"] != "network" {
				keep = append(keep, ns)
			}
		}
		linux["namespaces"] = keep
	}
	raw, _ = json.Marshal(spec)
	if err := os.WriteFile(cfgPath, raw, 0o644); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	id := fmt.Sprintf("acai-run-%d-%d", os.Getpid(), runSeq.Add(1))
	cmd := exec.CommandContext(ctx, "runc", "--root", filepath.Join(i.tmp, "runc"), "run", "--bundle", i.Bundle, id)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	exec.Command("runc", "--root", filepath.Join(i.tmp, "runc"), "delete", "-f", id).Run()
	return out.String(), err
}

// recorder collects the build's vertices from the status channel.
type recorder struct {
	mu       sync.Mutex
	order    []string
	steps    map[string]*Step
	warnings []string
	done     chan struct{}
}

func newRecorder(ch chan *client.SolveStatus) *recorder {
	r := &recorder{steps: map[string]*Step{}, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for s := range ch {
			r.mu.Lock()
			for _, w := range s.Warnings {
				r.warnings = append(r.warnings, string(w.Short))
			}
			for _, v := range s.Vertexes {
				st := r.step(v.Digest.String())
				st.Name = v.Name
				st.Cached = st.Cached || v.Cached
				if v.Started != nil && v.Completed != nil {
					st.Duration = v.Completed.Sub(*v.Started)
				}
				if v.Error != "" {
					st.Error = v.Error
				}
			}
			for _, v := range s.Statuses {
				if st := r.step(v.Vertex.String()); strings.HasPrefix(v.ID, "transferring") {
					st.Transferred = max(st.Transferred, v.Current)
				}
			}
			r.mu.Unlock()
		}
	}()
	return r
}

// step is the vertex's step, added in first-seen order.
func (r *recorder) step(digest string) *Step {
	st, ok := r.steps[digest]
	if !ok {
		st = &Step{}
		r.steps[digest] = st
		r.order = append(r.order, digest)
	}
	return st
}

func (r *recorder) wait() ([]Step, []string) {
	<-r.done
	out := make([]Step, 0, len(r.order))
	for _, d := range r.order {
		out = append(out, *r.steps[d])
	}
	return out, r.warnings
}

func stepLog(steps []Step) string {
	var sb strings.Builder
	for _, s := range steps {
		state := ""
		if s.Cached {
			state = " CACHED"
		}
		if s.Error != "" {
			state = " ERROR: " + s.Error
		}
		fmt.Fprintf(&sb, "%s%s\n", s.Name, state)
	}
	return sb.String()
}

// parsePlainProgress reads `--progress=plain` output: "#N name" lines and "#N CACHED".
func parsePlainProgress(out string) []Step {
	names := map[string]int{}
	var steps []Step
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		num, rest, ok := strings.Cut(line[1:], " ")
		if !ok {
			continue
		}
		i, seen := names[num]
		if !seen {
			steps = append(steps, Step{Name: rest})
			names[num] = len(steps) - 1
			continue
		}
		switch {
		case rest == "CACHED":
			steps[i].Cached = true
		case strings.HasPrefix(rest, "ERROR"):
			steps[i].Error = rest
		case strings.HasPrefix(rest, "DONE "): // "DONE 12.3s": its time from start to completion
			if sec, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(rest, "DONE "), "s"), 64); err == nil {
				steps[i].Duration = time.Duration(sec * float64(time.Second))
			}
		}
	}
	return steps
}
