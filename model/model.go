// Package model is acai's build model: the steps of a build as acai decides them from the
// Acaifile, its context files and the resolution, before any graph exists. The frontend
// emits it as LLB, `acai eject` as a Dockerfile: one description and two emitters, so that
// the two cannot drift apart, and what a step is can be tested without a daemon.
//
// It imports no BuildKit package: a step names what it mounts (a tool, the build
// context, files acai writes), and each emitter knows how to make that.
package model

import "strings"

// Run is a step that runs a command line on a stage's filesystem: an install, a resolve,
// uv's fetch, the runtime-library scan, the runner's packages and user.
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
	// SSH forwards the user's SSH agent (--ssh default): VCS requirements over ssh.
	SSH bool
	// Platform is where the step runs.
	Platform Platform
	// Root, for a step on the build platform that changes a target platform's stage (a
	// cross build's runtime packages and user): that stage's root is mounted there, and
	// the step runs in the build platform's image of the stage's base.
	Root string
	// Output, when set, is a directory the step writes its result into, a tree of its own
	// rather than a change to the stage: what a later step mounts (Mount.Stage).
	Output string
}

// Image is the base image a stage starts from, and the Acaifile keys that choose it.
type Image struct {
	Ref  string
	Keys []string
}

// Copy is a step that copies files into a stage: the installed dependencies from the
// dependency stage, the app from the build context.
type Copy struct {
	// Stage, Name and Keys as for Run.
	Stage, Name string
	Keys        []string
	// From is the stage copied from; "" is the build context.
	From string
	// Src's contents are copied into Dest, which is made when missing.
	Src, Dest string
	// Include, when set, are the only paths copied, at their paths under Src (patterns).
	// Exclude are paths left out (patterns).
	Include, Exclude []string
}

// ProgressName is the step's name in the build's progress and its image history.
func (c Copy) ProgressName() string { return "[" + c.Stage + "] " + c.Name }

// Platform is where a step runs.
type Platform int

const (
	// OnTarget: the image's platform, natively or under an emulator.
	OnTarget Platform = iota
	// OnBuild: the build platform, which runs no binary of the target's (a cross build).
	OnBuild
)

// Script is the command line that runs a shell script with args ("$@"); name, its $0, is
// one word starting with "acai-" ("acai-scan"), which names it in errors and tells it
// from other shell command lines. The Dockerfile emitter writes it as a heredoc.
func Script(name, script string, args ...string) []string {
	return append([]string{"/bin/sh", "-c", script, name}, args...)
}

// SplitScript is the script, its name and its arguments of a command line that Script
// made; ok is false for another command line.
func SplitScript(argv []string) (name, script string, args []string, ok bool) {
	if len(argv) < 4 || argv[0] != "/bin/sh" || argv[1] != "-c" || !strings.HasPrefix(argv[3], "acai-") || strings.ContainsAny(argv[3], " \n") {
		return "", "", nil, false
	}
	return argv[3], argv[2], argv[4:], true
}

// ProgressName is the step's name in the build's progress and its image history.
func (r Run) ProgressName() string { return "[" + r.Stage + "] " + r.Name }

// Mount is a filesystem that a step sees at Target and that reaches no image: its
// inputs, the tools it runs, caches and secrets. Exactly one of Files, Project, Tool,
// Wheel, Stage, Cache and Secret is set.
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
	// Stage names another stage whose root the step reads: the runner's base image
	// (StageRunnerBase), or a stage whose step writes an Output (that output, which
	// the stage holds at Source).
	Stage, Source string
	// Cache is the id of a cache kept between builds (an installer's downloads).
	Cache string
	// Secret is the id of a secret the user may give (--secret id=...): optional.
	Secret   string
	Readonly bool
}

// ToolUV is uv's binaries (uv, uvx) at the root of the mount: the wheel fetched from the
// Python index, or the image [build].uv_image names.
const ToolUV = "uv"

// StageRunnerBase is the runner's base image, as a stage a step can mount.
const StageRunnerBase = "runner-base"

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
