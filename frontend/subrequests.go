package frontend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/acai-build/acai/plan"
	"github.com/acai-build/acai/spec"
	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests"
	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/frontend/subrequests/targets"
	"github.com/moby/buildkit/solver/pb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// missingFileError is the build's error for a requirement file the target needs that
// is not in the context: the MissingRequirementFile finding, as an error.
func missingFileError(a *spec.Acaifile, findings []spec.Finding, target string) error {
	for _, f := range findings {
		if f.Rule == spec.RuleMissingRequirementFile && (target == stageTest || !strings.HasPrefix(f.Key, "test.")) {
			return &spec.Error{Filename: a.Source.Filename, Range: f.Range, Key: f.Key, Msg: f.Message, Hint: "add the file to the build context or fix the path"}
		}
	}
	return nil
}

// warn shows lint findings during a normal build, as BuildKit shows Dockerfile warnings.
func warn(ctx context.Context, src *dockerui.Source, findings []spec.Finding) {
	for _, f := range findings {
		msg := fmt.Sprintf("%s: %s (line %d)", f.Rule.Name, f.Message, f.Range.Start.Line)
		var ranges []*pb.Range
		switch {
		case f.File != "":
			msg = fmt.Sprintf("%s: %s (%s:%d)", f.Rule.Name, f.Message, f.File, f.Range.Start.Line)
		case f.Range.Start.Line > 0:
			ranges = []*pb.Range{pbRange(f.Range)}
		default:
			msg = f.Rule.Name + ": " + f.Message // about a build arg: no Acaifile line
		}
		src.Warn(ctx, msg, client.WarnOpts{
			Level:  1,
			URL:    f.Rule.URL(),
			Detail: [][]byte{[]byte(f.Rule.Description)},
			Range:  ranges,
		})
	}
}

// lintResults answers --check (the frontend.lint subrequest).
func lintResults(smap *llb.SourceMap, files map[string][]byte, findings []spec.Finding, parseErr error) *lint.LintResults {
	res := &lint.LintResults{}
	idx := res.AddSource(smap)
	sources := map[string]int{} // requirement file → its source index
	var se *spec.Error
	if errors.As(parseErr, &se) {
		res.Error = &lint.BuildError{Message: se.Error(), Location: pb.Location{SourceIndex: int32(idx), Ranges: []*pb.Range{pbRange(se.Range)}}}
		return res
	}
	for _, f := range findings {
		r, at := f.Range, idx
		if f.File != "" { // a requirement file's line, shown with that file
			if _, ok := sources[f.File]; !ok {
				sources[f.File] = res.AddSource(fileSourceMap(f.File, files[f.File]))
			}
			at = sources[f.File]
		}
		res.AddWarning(f.Rule.Name, f.Rule.Description, f.Rule.URL(), f.Message, at, []parser.Range{{
			Start: parser.Position{Line: r.Start.Line, Character: r.Start.Column - 1},
			End:   parser.Position{Line: r.End.Line, Character: r.End.Column - 1},
		}})
	}
	return res
}

// fileSourceMap is the source map of a context file (a requirement file, .python-version),
// for errors and lint results shown with that file's lines. It has an empty definition,
// which BuildKit's source types expect.
func fileSourceMap(name string, data []byte) *llb.SourceMap {
	sm := llb.NewSourceMap(nil, name, "", data)
	if def, err := llb.Scratch().Marshal(context.Background()); err == nil {
		sm.Definition = def
	}
	return sm
}

// buildArgs are the build args acai reads, for --call outline.
var buildArgs = []struct{ name, description string }{
	{"PIP_INDEX_URL", "pip's package index (default PyPI); [build].index_url takes precedence"},
	{"PIP_EXTRA_INDEX_URL", "further package indexes, space-separated"},
	{"PIP_FIND_LINKS", "further locations of distribution archives"},
	{"PIP_TRUSTED_HOST", "hosts pip trusts without valid HTTPS"},
	{"UV_INDEX_URL", "uv's package index (default PyPI), for locks and installer = \"uv\"; [build].index_url takes precedence"},
	{"UV_EXTRA_INDEX_URL", "further package indexes for uv, space-separated"},
	{"UV_FIND_LINKS", "further locations of distribution archives for uv"},
	{"PIP_*", "every other PIP_ (and UV_) build arg reaches the install step as an environment variable, unless it carries credentials (rule CredentialsInBuildArg)"},
	{"SOURCE_DATE_EPOCH", "Unix time used as the image's creation time and by the install step, for reproducible builds"},
	{"HTTP_PROXY", "proxy for the install steps (also HTTPS_PROXY, NO_PROXY, ALL_PROXY); not part of the cache key"},
}

// outlineFor answers --call outline: the build args, secrets, SSH and cache acai uses.
func outlineFor(bc *dockerui.Client, src *dockerui.Source, target string) *outline.Outline {
	o := &outline.Outline{Name: target, Description: describeTarget(target), Sources: [][]byte{src.SourceMap.Data}}
	for _, a := range buildArgs {
		o.Args = append(o.Args, outline.Arg{Name: a.name, Description: a.description, Value: bc.BuildArgs[a.name]})
	}
	o.Secrets = []outline.Secret{{Name: "pip.conf"}, {Name: "netrc"}}
	o.SSH = []outline.SSH{{Name: "default"}}
	o.Cache = []outline.CacheMount{{ID: "acai-pip-<platform>"}}
	return o
}

// targetList answers --call targets.
func targetList(src *dockerui.Source, base string) *targets.List {
	l := &targets.List{Sources: [][]byte{src.SourceMap.Data}}
	for _, t := range Targets {
		l.Targets = append(l.Targets, targets.Target{Name: t.Name, Default: t.Default, Description: t.Description, Base: base})
	}
	return l
}

func describeTarget(name string) string {
	for _, t := range Targets {
		if t.Name == name {
			return t.Description
		}
	}
	return ""
}

// today is when end-of-life dates are judged; a variable for tests.
var today = time.Now

// planRequest is --call plan: the resolution of each target platform, what installs as
// a wheel, what compiles, and what acai adds to the builder and the runner for it.
var planRequest = subrequests.Request{
	Name:        "frontend.plan",
	Version:     "1.0.0",
	Type:        subrequests.TypeRPC,
	Description: "The resolution for each target platform: wheels, source builds and the Alpine packages acai adds",
	Metadata:    []subrequests.Named{{Name: "result.json"}, {Name: "result.txt"}},
}

// platformPlan is one platform's entry of --call plan's JSON.
type platformPlan struct {
	Platform string `json:"platform"`
	// Base is the official image the stages start from; PythonFrom says where its
	// Python version came from when the Acaifile does not set it.
	Base       string     `json:"base"`
	PythonFrom string     `json:"python_from,omitempty"`
	Resolved   bool       `json:"resolved"` // false: acai cannot resolve this build ahead
	Plan       *plan.Plan `json:"plan,omitempty"`
	Builder    []string   `json:"builder_apk"`
	Runner     []string   `json:"runner_apk"`
	// Layers is how the installed dependencies are layered, and why.
	Layers string `json:"dependency_layers"`
	// Slim is what slimming removes from the installed packages ([runtime] slim).
	Slim string `json:"slim"`
	// Compiles is where the source builds compile: their wheel stages, or the install.
	Compiles string `json:"compiles,omitempty"`
}

// planNotes are what --call plan says of a platform's build beyond its plan.
type planNotes struct{ layers, compiles string }

// planResult answers --call plan: text by default, JSON with --call plan,format=json.
func planResult(a *spec.Acaifile, ps []ocispecs.Platform, plans []*plan.Plan, notes []planNotes) (*client.Result, error) {
	var out []platformPlan
	var text strings.Builder
	text.WriteString(baseText(a) + "\n")
	for i, p := range ps {
		name := platforms.FormatAll(platforms.Normalize(p))
		if plans[i] == nil {
			out = append(out, platformPlan{Platform: name, Base: a.BaseImage(), PythonFrom: a.PythonFrom})
			fmt.Fprintf(&text, "%s: not resolved ahead (a pylock.toml with local or VCS packages, or an architecture with no musllinux platform): the builder gets the whole toolchain\n", name)
			continue
		}
		slim := slimmingText(a, plans[i])
		out = append(out, platformPlan{Platform: name, Base: a.BaseImage(), PythonFrom: a.PythonFrom, Resolved: true, Plan: plans[i], Builder: nonNil(plans[i].BuildAPK()), Runner: nonNil(plans[i].RuntimeAPK()),
			Layers: notes[i].layers, Slim: slim, Compiles: notes[i].compiles})
		text.WriteString(plans[i].Text(name))
		if notes[i].compiles != "" {
			text.WriteString("compiles: " + notes[i].compiles + "\n")
		}
		text.WriteString("dependency layers: " + notes[i].layers + "\n")
		text.WriteString("slim: " + slim + "\n")
	}
	dt, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	res := client.NewResult()
	res.AddMeta("result.json", dt)
	res.AddMeta("result.txt", []byte(text.String()))
	res.AddMeta("version", []byte(planRequest.Version))
	return res, nil
}

// baseText is the plan's first line: the base image, where its Python version came from,
// and what the version table does not list.
func baseText(a *spec.Acaifile) string {
	s := "base: " + a.BaseImage()
	if a.PythonFrom != "" {
		s += " (python from " + a.PythonFrom + ")"
	}
	if u := a.UnlistedBase(); u != "" {
		s += "; " + u + ": tried against the registry"
	}
	return s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// describeSubrequests answers --call subrequests.describe with acai's requests.
func describeSubrequests() (*client.Result, error) {
	all := []subrequests.Request{outline.SubrequestsOutlineDefinition, targets.SubrequestsTargetsDefinition,
		lint.SubrequestLintDefinition, planRequest, subrequests.SubrequestsDescribeDefinition}
	dt, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := subrequests.PrintDescribe(dt, &b); err != nil {
		return nil, err
	}
	res := client.NewResult()
	res.AddMeta("result.json", dt)
	res.AddMeta("result.txt", b.Bytes())
	res.AddMeta("version", []byte(subrequests.SubrequestsDescribeDefinition.Version))
	return res, nil
}
