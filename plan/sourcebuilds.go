package plan

import (
	"bytes"
	_ "embed"
	"fmt"

	"github.com/acai-build/acai/spec"
	"github.com/pelletier/go-toml/v2"
)

// Needs are the Alpine packages a source build needs: to compile (in the builder) and
// to run (in the runner).
type Needs struct {
	Why     string   `toml:"why" json:"why,omitempty"`
	Build   []string `toml:"build" json:"build,omitempty"`
	Runtime []string `toml:"runtime" json:"runtime,omitempty"`
}

//go:embed source-builds.toml
var sourceBuildsTOML []byte

// sourceBuilds is source-builds.toml, by normalized project name.
var sourceBuilds = func() map[string]Needs {
	m, err := parseSourceBuilds(sourceBuildsTOML)
	if err != nil {
		panic(err) // the embedded file is checked by TestSourceBuildsFile
	}
	return m
}()

func parseSourceBuilds(data []byte) (map[string]Needs, error) {
	m := map[string]Needs{}
	d := toml.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("plan/source-builds.toml: %w", err)
	}
	for name, n := range m {
		if spec.NormalizeName(name) != name {
			return nil, fmt.Errorf("plan/source-builds.toml: [%s] is not a normalized project name; write [%s]", name, spec.NormalizeName(name))
		}
		if len(n.Build) == 0 || n.Why == "" {
			return nil, fmt.Errorf("plan/source-builds.toml: [%s] needs `why` and at least one `build` package", name)
		}
	}
	return m, nil
}

// SourceBuildNeeds is what acai knows project name needs to compile on Alpine.
func SourceBuildNeeds(name string) (Needs, bool) {
	n, ok := sourceBuilds[spec.NormalizeName(name)]
	return n, ok
}

// KnownSourceBuilds are the project names source-builds.toml covers.
func KnownSourceBuilds() []string {
	out := make([]string, 0, len(sourceBuilds))
	for k := range sourceBuilds {
		out = append(out, k)
	}
	return out
}
