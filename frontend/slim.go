package frontend

import (
	_ "embed"
	"strings"

	"github.com/acai-build/acai/model"
	"github.com/acai-build/acai/plan"
	"github.com/acai-build/acai/spec"
)

// Slimming ([runtime] slim): an install step runs through slim.py, which removes from
// what the step installed the files no program loads at run time and strips the
// symbol tables of its shared objects, before the step's snapshot is taken: the removed
// bytes reach no layer, and each package layer is slim by itself.

//go:embed slim.py
var slimScript string

// slimKnowledge is what every image keeps (slim-keep.txt): parts of packages that
// they read at run time.
//
//go:embed slim-keep.txt
var slimKnowledge string

// slimMount is where slim.py and the keep globs are mounted in an install step.
const slimMount = "/acai/slim"

// slimming is how an install step slims what it installs.
type slimming struct {
	depsDir string
	keep    []string // the Acaifile's [runtime] keep
}

// slimmingFor is a's slimming, nil when [runtime] slim = false.
func slimmingFor(a *spec.Acaifile) *slimming {
	if !a.SlimEnabled() {
		return nil
	}
	return &slimming{depsDir: a.DepsDir(), keep: a.Runtime.Keep}
}

// wrap is argv run by slim.py, which slims what it installs.
func (s *slimming) wrap(argv []string) []string {
	return append([]string{"python", slimMount + "/slim.py", s.depsDir, slimMount + "/keep.txt", "--"}, argv...)
}

// mount is the step's mount of slim.py and the keep globs: acai's knowledge, then the
// Acaifile's.
func (s *slimming) mount() model.Mount {
	keep := slimKnowledge
	if len(s.keep) > 0 {
		keep += "# [runtime] keep\n" + strings.Join(s.keep, "\n") + "\n"
	}
	return model.Mount{Target: slimMount, Readonly: true, Files: &model.Files{Name: "acai's slimming (slim.py)", Generated: []model.File{
		{Path: "slim.py", Data: []byte(slimScript)},
		{Path: "keep.txt", Data: []byte(keep)},
	}}}
}

// slimmingText is what --call plan says of the slimming.
func slimmingText(a *spec.Acaifile, p *plan.Plan) string {
	if !a.SlimEnabled() {
		return "off ([runtime] slim = false)"
	}
	text := "tests inside packages, C/C++ headers and sources, Cython sources, type stubs and static archives removed"
	if p == nil || p.HasSharedObjects() {
		text += "; shared objects stripped of their symbol tables and debug information"
	}
	if len(a.Runtime.Keep) > 0 {
		text += "; kept: " + strings.Join(a.Runtime.Keep, ", ")
	}
	return text
}
