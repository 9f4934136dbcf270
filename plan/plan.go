// Package plan is what the resolution says about one build of an Acaifile for one
// target: which distributions install as wheels, which compile from source, and what
// the builder and the runner need for that. The frontend runs the resolver, hands its
// output to Resolve, and builds the stages from the Plan. No BuildKit imports.
package plan

import (
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/acai-build/acai/spec"
	"github.com/pelletier/go-toml/v2"
)

// Target is what the resolution is for: Alpine (musllinux_1_2) on one architecture,
// with the Acaifile's Python.
type Target struct {
	Arch   string `json:"arch"`   // x86_64, aarch64
	Python string `json:"python"` // "3.12"
}

// TargetFor is the target of an OCI architecture (amd64, arm64); ok is false for an
// architecture the resolver has no musl platform for.
func TargetFor(ociArch, python string) (Target, bool) {
	arch, ok := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[ociArch]
	return Target{Arch: arch, Python: python}, ok
}

// WheelPlatform is the newest wheel platform tag Alpine's pip and uv accept.
func (t Target) WheelPlatform() string { return "musllinux_1_2_" + t.Arch }

// ResolverPlatform is uv's --python-platform for the target.
func (t Target) ResolverPlatform() string { return t.Arch + "-unknown-linux-musl" }

func (t Target) String() string { return t.WheelPlatform() + ", CPython " + t.Python }

// Package sources other than an index.
const (
	SourceIndex     = "index"
	SourceDirectory = "directory" // a local project
	SourceArchive   = "archive"   // a local or remote sdist or wheel file
	SourceVCS       = "vcs"       // git+https://..., git+ssh://...
)

// Package is one resolved distribution.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	Source  string `json:"source"`
	// Wheel is the wheel file installed on the target; "" when the package builds from
	// source there.
	Wheel string `json:"wheel,omitempty"`
	// SdistSHA256 is the hash of the index's source distribution, which a source build
	// compiles: its wheel is built from exactly that file.
	SdistSHA256 string `json:"sdist_sha256,omitempty"`
}

// Compiles reports whether the package is built from source on the target.
func (p Package) Compiles() bool { return p.Wheel == "" }

// WheelTag is the wheel's compatibility tag (cp312-cp312-musllinux_1_2_x86_64).
func (p Package) WheelTag() string {
	parts := strings.Split(strings.TrimSuffix(p.Wheel, ".whl"), "-")
	if len(parts) < 5 {
		return p.Wheel
	}
	return strings.Join(parts[len(parts)-3:], "-")
}

func (p Package) String() string {
	if p.Version == "" {
		return p.Name
	}
	return p.Name + " " + p.Version
}

// pylock is the part of a PEP 751 lock (the resolver's output) a plan reads.
type pylock struct {
	Packages []struct {
		Name    string `toml:"name"`
		Version string `toml:"version"`
		Sdist   *struct {
			URL, Path string
			Hashes    struct{ Sha256 string }
		}
		Directory *struct{ Path string }
		Archive   *struct{ URL, Path string }
		VCS       *struct{ URL string }
		Wheels    []struct {
			Name string `toml:"name"`
			URL  string `toml:"url"`
			Path string `toml:"path"`
		}
	} `toml:"packages"`
}

// ParsePylock reads a pylock.toml the resolver wrote for the target, whose wheels are
// those the target can install (uv lists no others): a package with none compiles.
func ParsePylock(filename string, data []byte) ([]Package, error) {
	var l pylock
	if err := toml.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("%s, the resolution acai's resolver wrote: %w", filename, err)
	}
	var out []Package
	for _, p := range l.Packages {
		pkg := Package{Name: spec.NormalizeName(p.Name), Version: p.Version, Source: SourceIndex}
		if p.Sdist != nil {
			pkg.SdistSHA256 = p.Sdist.Hashes.Sha256
		}
		switch {
		case p.Directory != nil:
			pkg.Source = SourceDirectory
		case p.VCS != nil:
			pkg.Source = SourceVCS
		case p.Archive != nil:
			pkg.Source = SourceArchive
			if f := fileName(p.Archive.URL, p.Archive.Path); strings.HasSuffix(f, ".whl") {
				pkg.Wheel = f
			}
		}
		var wheels []string
		for _, w := range p.Wheels {
			if w.Name != "" {
				wheels = append(wheels, w.Name)
			} else {
				wheels = append(wheels, fileName(w.URL, w.Path))
			}
		}
		if pkg.Wheel == "" {
			pkg.Wheel = bestWheel(wheels)
		}
		out = append(out, pkg)
	}
	slices.SortFunc(out, func(a, b Package) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func fileName(u, p string) string {
	if p != "" {
		return path.Base(p)
	}
	if parsed, err := url.Parse(u); err == nil {
		if f, err := url.PathUnescape(path.Base(parsed.Path)); err == nil {
			return f
		}
	}
	return path.Base(u)
}

// bestWheel is the wheel an installer prefers among compatible ones: a platform wheel
// over a pure one, an interpreter's ABI over abi3 over none.
func bestWheel(wheels []string) string {
	best, bestScore := "", -1
	for _, w := range wheels {
		tag := strings.Split(strings.TrimSuffix(w, ".whl"), "-")
		if len(tag) < 5 {
			continue
		}
		abi, platform := tag[len(tag)-2], tag[len(tag)-1]
		score := 0
		if platform != "any" {
			score += 4
		}
		switch abi {
		case "none":
		case "abi3":
			score++
		default:
			score += 2
		}
		if score > bestScore {
			best, bestScore = w, score
		}
	}
	return best
}

// Plan is the resolution for one target and what it asks of the stages.
type Plan struct {
	Target   Target    `json:"target"`
	Packages []Package `json:"packages"`
	// SourceBuilds are the packages that compile, with what acai adds for each.
	SourceBuilds []SourceBuild `json:"source_builds"`
	// Toolchain is the C toolchain the builder gets: none when nothing compiles.
	Toolchain []string `json:"toolchain"`
	// NamedOnly: the resolution covers the named requirements only, not the
	// dependencies of their source builds (which resolving would have to build); the
	// install resolves those.
	NamedOnly bool `json:"named_only,omitempty"`
	// Cross: the target is cross-built from the build platform, which installs its
	// wheels and compiles nothing (CrossError).
	Cross bool `json:"cross,omitempty"`
}

// SourceBuild is a package that compiles on the target and what acai knows it needs.
type SourceBuild struct {
	Package
	Known bool `json:"known"` // in source-builds.toml
	Needs
}

// Toolchain is what every compile gets: the C/C++ compiler, libc and kernel headers.
var Toolchain = []string{"build-base", "linux-headers"}

// Make is the plan of packages resolved for t.
func Make(t Target, packages []Package) *Plan {
	p := &Plan{Target: t, Packages: packages}
	for _, pkg := range packages {
		if !pkg.Compiles() {
			continue
		}
		needs, known := SourceBuildNeeds(pkg.Name)
		p.SourceBuilds = append(p.SourceBuilds, SourceBuild{Package: pkg, Known: known, Needs: needs})
	}
	if len(p.SourceBuilds) > 0 {
		p.Toolchain = slices.Clone(Toolchain)
	}
	return p
}

// BuildAPK is what the builder adds for the plan: the toolchain, then each source
// build's known packages, without repeats.
func (p *Plan) BuildAPK() []string {
	out := slices.Clone(p.Toolchain)
	for _, s := range p.SourceBuilds {
		out = appendNew(out, s.Build...)
	}
	return out
}

// HasSharedObjects reports whether the plan installs compiled code: a wheel for a
// platform (not py3-none-any), or a source build.
func (p *Plan) HasSharedObjects() bool {
	for _, pkg := range p.Packages {
		if pkg.Compiles() || !strings.HasSuffix(pkg.WheelTag(), "-any") {
			return true
		}
	}
	return false
}

// RuntimeAPK is what the runner adds for the plan's source builds.
func (p *Plan) RuntimeAPK() []string {
	var out []string
	for _, s := range p.SourceBuilds {
		out = appendNew(out, s.Runtime...)
	}
	return out
}

// Compiled are the names of the packages that compile from an index's sdist: what an
// install must build from source even where the builder's own platform has a wheel.
func (p *Plan) Compiled() []string {
	var out []string
	for _, s := range p.SourceBuilds {
		if s.Source == SourceIndex {
			out = append(out, s.Name)
		}
	}
	return out
}

// Pins are the resolved index packages as constraints (name==version): the install
// then takes exactly the resolved versions.
func (p *Plan) Pins() []byte {
	var b strings.Builder
	for _, pkg := range p.Packages {
		if pkg.Source == SourceIndex && pkg.Version != "" {
			fmt.Fprintf(&b, "%s==%s\n", pkg.Name, pkg.Version)
		}
	}
	return []byte(b.String())
}

// Describe is a source build for progress names and messages: "awslambdaric 3.1.1".
func (p *Plan) Describe() string {
	var names []string
	for _, s := range p.SourceBuilds {
		names = append(names, s.String())
	}
	return strings.Join(names, ", ")
}

// FailureHint is what an install prints when it fails with source builds in the plan:
// the packages that compiled, why, and what to do.
func (p *Plan) FailureHint() string {
	if len(p.SourceBuilds) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "acai: these packages have no %s wheel for CPython %s and were compiled from source:", p.Target.WheelPlatform(), p.Target.Python)
	for _, s := range p.SourceBuilds {
		if s.Known {
			fmt.Fprintf(&b, "\n  %s (acai added %s: %s)", s, strings.Join(s.Build, " "), s.Why)
		} else {
			fmt.Fprintf(&b, "\n  %s (acai knows no build packages for it)", s)
		}
	}
	b.WriteString("\nIf the compile failed, add the Alpine packages it needs (its -dev libraries) to [build].apk in the Acaifile, or pin a version that has a musllinux wheel.")
	return b.String()
}

// Findings are the CompilesOnAlpine warnings: one per source build, at the requirement's
// line.
func (p *Plan) Findings(a *spec.Acaifile, files map[string][]byte) []spec.Finding {
	var out []spec.Finding
	for _, s := range p.SourceBuilds {
		msg := fmt.Sprintf("%s has no %s wheel for CPython %s: it compiles in the builder", s, p.Target.WheelPlatform(), p.Target.Python)
		if s.Known {
			msg += fmt.Sprintf(", which acai gives %s (%s)", strings.Join(appendNew(slices.Clone(p.Toolchain), s.Build...), " "), s.Why)
			if len(s.Runtime) > 0 {
				msg += "; the runner gets " + strings.Join(s.Runtime, " ")
			}
		} else {
			msg += fmt.Sprintf(" with %s only; acai knows no build packages for it: name its libraries in [build].apk", strings.Join(p.Toolchain, " "))
		}
		out = append(out, spec.RequirementFinding(a, files, spec.RuleCompilesOnAlpine, s.Name, msg))
	}
	return out
}

func appendNew(list []string, more ...string) []string {
	for _, m := range more {
		if !slices.Contains(list, m) {
			list = append(list, m)
		}
	}
	return list
}

// Text is the plan as `--call plan` prints it.
func (p *Plan) Text(platform string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: resolved for %s\n", platform, p.Target)
	w := len("package")
	for _, pkg := range p.Packages {
		w = max(w, len(pkg.Name))
	}
	for _, pkg := range p.Packages {
		how := "wheel " + pkg.WheelTag()
		switch {
		case pkg.Compiles() && pkg.Source == SourceIndex:
			how = "builds from source (no " + p.Target.WheelPlatform() + " wheel)"
		case pkg.Compiles():
			how = "builds from source (" + pkg.Source + ")"
		}
		fmt.Fprintf(&b, "  %-*s  %-10s  %s\n", w, pkg.Name, pkg.Version, how)
	}
	if p.NamedOnly {
		b.WriteString("  (the named requirements only: the dependencies of what builds from source are resolved once it is built)\n")
	}
	if p.Cross {
		b.WriteString("cross-built from the build platform, with no emulator: the target's wheels are installed there\n")
		if len(p.SourceBuilds) > 0 {
			fmt.Fprintf(&b, "cannot cross-build: %s (no %s wheel); pin a version with one, or set `cross = false` in [build]\n", p.Describe(), p.Target.WheelPlatform())
		}
	}
	if len(p.SourceBuilds) == 0 {
		b.WriteString("builder adds: nothing (every package is a wheel: no C toolchain)\n")
		return b.String()
	}
	fmt.Fprintf(&b, "builder adds: %s (the C toolchain, for %s)\n", strings.Join(p.Toolchain, " "), p.Describe())
	for _, s := range p.SourceBuilds {
		if s.Known {
			fmt.Fprintf(&b, "builder adds: %s (for %s: %s)\n", strings.Join(s.Build, " "), s, s.Why)
			if len(s.Runtime) > 0 {
				fmt.Fprintf(&b, "runner adds: %s (for %s)\n", strings.Join(s.Runtime, " "), s)
			}
		} else {
			fmt.Fprintf(&b, "unknown: %s compiles with the toolchain only; name its build packages in [build].apk\n", s)
		}
	}
	return b.String()
}

// CrossError is the error of a cross build (the target's wheels installed from the
// build platform, [build].cross) whose plan compiles: a compile would have to run the
// target's compiler and Python, which a cross build never runs. It is at the first
// source build's requirement line, and names them all; nil when every package is a
// wheel.
func (p *Plan) CrossError(a *spec.Acaifile, files map[string][]byte, platform string) *spec.Error {
	if len(p.SourceBuilds) == 0 {
		return nil
	}
	first := p.SourceBuilds[0]
	msg := fmt.Sprintf("%s has no %s wheel for CPython %s, so it cannot be cross-built for %s from this build platform",
		p.Describe(), p.Target.WheelPlatform(), p.Target.Python, platform)
	if len(p.SourceBuilds) > 1 {
		msg = fmt.Sprintf("%s have no %s wheels for CPython %s, so they cannot be cross-built for %s from this build platform",
			p.Describe(), p.Target.WheelPlatform(), p.Target.Python, platform)
	}
	f := spec.RequirementFinding(a, files, spec.RuleCompilesOnAlpine, first.Name, msg)
	file := f.File
	if file == "" {
		file = a.Source.Filename
	}
	return &spec.Error{Filename: file, Range: f.Range, Key: f.Key, Msg: msg,
		Hint: "pin a version that has a " + p.Target.WheelPlatform() + " wheel; or build its wheel on a " + platform + " machine and serve it " +
			"([build].find_links or index_url); or set `cross = false` in [build] to build every step under an emulator (QEMU registered with binfmt_misc)"}
}
