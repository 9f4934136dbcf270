package spec

import (
	_ "embed"

	"github.com/pelletier/go-toml/v2"
	"path"
	"slices"
	"strings"
)

//go:embed app-excludes.txt
var appExcludesFile string

// DefaultAppExcludes are the patterns of app-excludes.txt: what the app copy leaves out
// unless the user brings it back.
var DefaultAppExcludes = func() []string {
	var out []string
	for _, line := range strings.Split(appExcludesFile, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}()

// VenvMarker is the file that makes a directory a virtual environment.
const VenvMarker = "pyvenv.cfg"

// AppExcludes are the exclude patterns of the app copy beyond the build files: the
// defaults, minus those `app` names, then the virtual environments found in the context
// (directories holding a pyvenv.cfg), then the `!` patterns of .dockerignore (ignored: its
// patterns, as the build context applies them), which bring paths back (patterns apply in
// order, the last match wins).
func (a *Acaifile) AppExcludes(venvDirs []string, ignored []string) []string {
	var out []string
	for _, d := range DefaultAppExcludes {
		if !a.appNames(d) {
			out = append(out, d)
		}
	}
	for _, v := range venvDirs {
		if !a.appNames(v) && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	for _, p := range ignored {
		if strings.HasPrefix(p, "!") {
			out = append(out, p)
		}
	}
	return out
}

// appNames reports whether an `app` entry names what pattern excludes: the same path, or
// a path with the pattern's last element as one of its elements (app = [".venv/"] for
// **/.venv).
func (a *Acaifile) appNames(pattern string) bool {
	name := path.Base(pattern)
	for _, e := range a.App {
		e = path.Clean(strings.TrimSuffix(e, "/"))
		if e == path.Clean(pattern) || slices.Contains(strings.Split(e, "/"), name) {
			return true
		}
	}
	return false
}

// DeclaresProject reports whether a pyproject.toml declares a [project] with a name: a
// project uv can install (`uv pip install -r pyproject.toml`), not a file holding only
// tool settings ([tool.ruff], ...).
func DeclaresProject(pyproject []byte) bool {
	var doc struct {
		Project struct {
			Name string `toml:"name"`
		} `toml:"project"`
	}
	return toml.Unmarshal(pyproject, &doc) == nil && doc.Project.Name != ""
}

// HasBuildSystem reports whether a pyproject.toml declares a [build-system]: a project uv
// installs itself. Without one, uv treats the project as an application and installs only
// its dependencies, and so does acai.
// A Poetry project with package-mode = false is an application too.
func HasBuildSystem(pyproject []byte) bool {
	var doc struct {
		BuildSystem map[string]any `toml:"build-system"`
		Tool        struct {
			Poetry struct {
				PackageMode *bool `toml:"package-mode"`
			} `toml:"poetry"`
		} `toml:"tool"`
	}
	if toml.Unmarshal(pyproject, &doc) != nil {
		return false
	}
	if m := doc.Tool.Poetry.PackageMode; m != nil && !*m {
		return false
	}
	return doc.BuildSystem != nil
}

// UVWorkspace is the [tool.uv.workspace] table of a uv project's pyproject.toml: its
// members are directories (globs) relative to the project, each with a pyproject.toml.
type UVWorkspace struct {
	Members []string `toml:"members"`
	Exclude []string `toml:"exclude"`
}

// UVWorkspaceOf reads the workspace a pyproject.toml declares; nil when it declares none.
func UVWorkspaceOf(pyproject []byte) *UVWorkspace {
	var doc struct {
		Tool struct {
			UV struct {
				Workspace *UVWorkspace `toml:"workspace"`
			} `toml:"uv"`
		} `toml:"tool"`
	}
	if toml.Unmarshal(pyproject, &doc) != nil || doc.Tool.UV.Workspace == nil || len(doc.Tool.UV.Workspace.Members) == 0 {
		return nil
	}
	return doc.Tool.UV.Workspace
}

// MemberPatterns are the context paths of the members' pyproject.toml files, as patterns
// (dir is the project's directory in the context).
func (w *UVWorkspace) MemberPatterns(dir string) []string {
	var out []string
	for _, m := range w.Members {
		out = append(out, path.Join(dir, m, PyprojectFile))
	}
	return out
}

// Excludes reports whether member (a directory relative to the project) is excluded.
func (w *UVWorkspace) Excludes(member string) bool {
	for _, e := range w.Exclude {
		if ok, _ := path.Match(path.Clean(e), member); ok {
			return true
		}
	}
	return false
}
