// Package model is acai's build model: the steps of a build as acai decides them from the
// Acaifile, its context files and the resolution, before any graph exists. The frontend
// emits it as LLB, `acai eject` as a Dockerfile: one description and two emitters, so that
// the two cannot drift apart, and what a step is can be tested without a daemon.
//
// It imports no BuildKit package: a step names what it mounts (a tool, the build
// context, files acai writes), and each emitter knows how to make that.
package model

// Run is a step that runs a command line on a stage's filesystem: an install, a resolve,
// uv's fetch.
type Run struct {
	// Stage and Name make its progress name, "[Stage] Name", the user's window into the
	// build. Keys are the Acaifile keys it comes from: its errors point at them.
	Stage, Name string
	Keys        []string
	Args        []string
	Dir         string
	Env         [][2]string
	// ArgPrefixes name the build args the step reads from its environment (PIP_, UV_):
	// those given are passed, but for one that carries credentials.
	ArgPrefixes []string
	Mounts      []Mount
	// MountsResolution: the step mounts the resolve steps' output, which it does not
	// read: the resolve steps are then in the graph that --export-cache mode=max
	// exports, so that another machine's resolve is CACHED. A step whose inputs are one
	// package's (a package's layer, its wheel build) does not: its cache key holds that
	// package alone.
	MountsResolution bool
}

// ProgressName is the step's name in the build's progress and its image history.
func (r Run) ProgressName() string { return "[" + r.Stage + "] " + r.Name }

// Mount is a filesystem that a step sees at Target and that reaches no image: its
// inputs, the tools it runs, caches and secrets. Exactly one of Files, Project, Tool,
// Wheel, Cache and Secret is set.
type Mount struct {
	Target string
	// Files is a tree acai makes for the step.
	Files *Files
	// Project, when not nil, is the build context minus these exclude patterns: a
	// project installed from its sources.
	Project []string
	// Tool names the binaries of a tool acai runs: ToolUV.
	Tool string
	// Wheel names the package whose wheel, built from source in a stage of its own, the
	// step installs: a directory holding the wheel file.
	Wheel string
	// Cache is the id of a cache kept between builds (an installer's downloads).
	Cache string
	// Secret is the id of a secret the user may give (--secret id=...): optional.
	Secret   string
	Readonly bool
}

// ToolUV is uv's binaries (uv, uvx) at the root of the mount: the wheel fetched from the
// Python index, or the image [build].uv_image names.
const ToolUV = "uv"

// Files is a tree acai makes for a step: paths of the build context, at their context
// paths, and files it generates beside them.
type Files struct {
	// Name, when set, is the progress name of making the tree ("compilers mapping the
	// build directories"); otherwise each copy and write is a step of its own
	// ("copy requirements.txt", "write acai-resolved.txt").
	Name      string
	Context   []string
	Generated []File
}

// File is a file acai generates.
type File struct {
	Path string // relative to the tree's root
	Data []byte
	Mode uint32 // 0o644 when 0
}

// FileMode is f's mode.
func (f File) FileMode() uint32 {
	if f.Mode == 0 {
		return 0o644
	}
	return f.Mode
}
