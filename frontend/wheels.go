package frontend

import (
	"context"
	_ "embed"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/acai-build/acai/model"
	"github.com/acai-build/acai/plan"
	"github.com/acai-build/acai/spec"
	"github.com/moby/buildkit/client/llb"
)

// Compiled wheels, built once per organisation: each package the plan compiles from an
// index's source distribution is a stage of its own, whose output is the wheel file alone.
// Its inputs are what decides the wheel and nothing else: the builder's base image, the
// package's own build packages, the sdist's pin and hash, the compile settings and the
// index settings; not the project's other requirements, not the app. Another project,
// or this one after an unrelated change, finds it CACHED, on any machine that imports a
// registry cache holding it. The installs take the wheels as they take any wheel.

// pipSettingsScript (pipsettings.sh) carries uv's index settings over to pip, for the
// steps that run pip whatever the installer: uv's fetch and the wheel builds.
//
//go:embed pipsettings.sh
var pipSettingsScript []byte

const (
	pipSettingsFile = "acai-pip-settings.sh"
	wheelReqFile    = "acai-wheel.txt"
	// wheelsMount holds the built wheels in an install step, each package's in a
	// directory of its own name.
	wheelsMount   = "/acai/wheels"
	wheelOutMount = "/acai/wheel-out"
	// wheelEpoch dates a built wheel's files when the build sets no SOURCE_DATE_EPOCH
	// (1980-01-01, the earliest a zip holds): the same sdist gives the same wheel bytes.
	wheelEpoch = "315532800"
)

// wheelStep builds the wheel of one source build with pip, from exactly its pinned sdist
// (hash-checked when the resolution gives the hash), without its dependencies, into
// wheelOutMount. Its progress name is "[wheels] NAME VERSION from its source distribution".
func wheelStep(indexOpts, fileOptions []string, sb plan.SourceBuild, p *plan.Plan) model.Run {
	cmd := wheelCommand(indexOpts, fileOptions, sb, p)
	r := cmd.step(stageWheels, cmd.what)
	// A build arg SOURCE_DATE_EPOCH, given, comes after it and wins (converter.run).
	r.Env = append(r.Env, [2]string{"SOURCE_DATE_EPOCH", wheelEpoch})
	return r
}

// fileOptions are the requirement files' own index options (requirementIndexOptions):
// the sdist comes from where they say.
func wheelCommand(indexOpts, fileOptions []string, sb plan.SourceBuild, p *plan.Plan) command {
	line := sb.Name + "==" + sb.Version
	args := []string{"/bin/sh", "-c", `. ./` + pipSettingsFile + `; exec "$@"`, "acai-wheel",
		"python", "-m", "pip", "wheel", "--no-deps", "--no-binary", sb.Name, "--wheel-dir", wheelOutMount, "-r", wheelReqFile}
	if sb.SdistSHA256 != "" {
		line += " --hash=sha256:" + sb.SdistSHA256
		args = append(args, "--require-hashes")
	}
	one := plan.Make(p.Target, []plan.Package{sb.Package})
	return command{tool: pipForUV, args: append(args, indexOpts...), what: sb.String() + " from its source distribution (pip wheel)",
		generated: map[string][]byte{wheelReqFile: []byte(withOptionLines(fileOptions, line+"\n")), pipSettingsFile: pipSettingsScript},
		dir:       requirementsMount, keys: []string{"requirements", "packages"}, hint: one.FailureHint()}
}

// wheelStages builds the wheel of each package the plan compiles from an index, on c's
// platform: what the installs of requirements take (wheelsFor) and --target wheels
// exports. None for a cross build, which compiles nothing.
func (c *converter) wheelStages(ctx context.Context) (map[string]llb.State, error) {
	if c.plan == nil || c.plan.Cross || c.host != nil {
		return nil, nil
	}
	out := map[string]llb.State{}
	for _, sb := range c.plan.SourceBuilds {
		if sb.Source != plan.SourceIndex {
			continue
		}
		base, generated, err := c.builderBase(ctx)
		if err != nil {
			return nil, err
		}
		if generated {
			packages, why := plannedPackages(c.spec, plan.Make(c.plan.Target, []plan.Package{sb.Package}))
			base = c.addBuildPackages(base, packages, why)
		}
		r := wheelStep(indexOptions(c.spec.Build), c.requirementIndexOptions(), sb, c.plan)
		// Its inputs are the package's alone: no resolution mount (model.Run.MountsResolution).
		out[sb.Name] = c.run(base.state, r).AddMount(wheelOutMount, llb.Scratch().Platform(c.platform))
	}
	return out, nil
}

// wheelsStage is --target wheels: the built wheels, side by side.
func (c *converter) wheelsStage(wheels map[string]llb.State) (*stage, error) {
	if len(wheels) == 0 {
		why := "nothing compiles: every package is a wheel for the target (--call plan)"
		if c.plan == nil {
			why = "the build was not resolved ahead, so acai does not know what compiles"
		} else if c.plan.Cross {
			why = "a cross build compiles nothing"
		}
		return nil, fmt.Errorf("--target wheels has no wheel to build: %s", why)
	}
	var states []llb.State
	for _, sb := range c.plan.SourceBuilds {
		if st, ok := wheels[sb.Name]; ok {
			states = append(states, st)
		}
	}
	st := states[0]
	if len(states) > 1 {
		st = llb.Merge(states, c.opts(stageWheels, "the compiled wheels")...)
	}
	return &stage{state: st, config: orEmptyConfig(nil, c.platform)}, nil
}

// wheelsArgs makes an install take the built wheels of names (mounted at wheelsMount):
// the wheel files are added to its command line (a shell expands their names) and the
// installer's --no-binary is cleared, so that neither the index's wheels nor the sdist
// replace them. The installer records a wheel installed from a file in its dist-info
// (direct_url.json, PEP 610; uv also uv_cache.json, with a time in it): those records go,
// with their RECORD lines, so that the package reads as installed from the index, as it
// was (pip freeze, SBOM scanners), and the same wheel installs to the same bytes.
func wheelsArgs(argv []string, names []string) []string {
	globs := make([]string, len(names))
	for i, n := range names {
		globs[i] = path.Join(wheelsMount, n, "*.whl")
	}
	script := `"$@" ` + strings.Join(globs, " ") + ` || exit $?
for f in ` + spec.VenvDir + `/lib/python*/site-packages/*.dist-info/direct_url.json ` + spec.LambdaTaskRoot + `/*.dist-info/direct_url.json; do
  grep -qs '"file://` + wheelsMount + `/' "$f" || continue
  rm -f "$f" "${f%/*}/uv_cache.json"; sed -i -e '/\/direct_url.json,/d' -e '/\/uv_cache.json,/d' "${f%/*}/RECORD"
done`
	return append(append([]string{"/bin/sh", "-c", script, "acai-wheels"}, argv...), "--no-binary", ":none:")
}

// wheelMounts are the mounts of the built wheels of names in an install step.
func wheelMounts(names []string) []model.Mount {
	out := make([]model.Mount, len(names))
	for i, n := range names {
		out[i] = model.Mount{Target: path.Join(wheelsMount, n), Wheel: n, Readonly: true}
	}
	return out
}

// compilingText is what --call plan says of where the plan's source builds compile.
func (c *converter) compilingText(cmds []command) string {
	p := c.plan
	if p == nil || len(p.Compiled()) == 0 || p.Cross {
		return ""
	}
	var names []string
	for _, sb := range p.SourceBuilds {
		if sb.Source == plan.SourceIndex {
			names = append(names, sb.String())
		}
	}
	layered := c.packageLayersOff(cmds) == ""
	if !layered && !slices.ContainsFunc(cmds, func(c command) bool { return c.resolve != nil && takesWheels(c, p) }) {
		return "in the install: " + strings.Join(names, ", ") + " (a lock's or a requirement file's hashes, or a --no-binary in a requirement file, refuse a wheel built here)"
	}
	text := "each in a stage of its own ([wheels]), whose wheel the install takes: " + strings.Join(names, ", ")
	if c.completesWithWheels() {
		return text + " (the build resolves their dependencies once they are built)"
	}
	if c.installsCompile(cmds) {
		text += "; the install compiles too (a lock's packages, or dependencies not resolved ahead), on a builder with the toolchain"
	}
	return text
}

// installsCompile reports whether the dependency installs compile themselves, so that
// their builder needs the toolchain: with one layer per package, where a lock's package
// shares its layer (compilesInLayer); else compilesInInstall.
func (c *converter) installsCompile(cmds []command) bool {
	if c.packageLayersOff(cmds) == "" {
		return c.layersCompile()
	}
	return compilesInInstall(cmds, c.plan)
}
