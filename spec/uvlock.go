package spec

import (
	"slices"

	"github.com/pelletier/go-toml/v2"
)

// UVLockIndexes are the package indexes a uv.lock records its packages from, each once,
// PyPI's first when it is one of them: what the lock was made against. A lock pins
// versions and hashes, not where the files come from, so acai checks the lock against
// these (offline) and installs from whatever index the build is given. nil when the lock
// does not parse (its export reports that) or records no index.
func UVLockIndexes(data []byte) []string {
	var l struct {
		Package []struct {
			Source struct {
				Registry string `toml:"registry"`
			} `toml:"source"`
		} `toml:"package"`
	}
	if err := toml.Unmarshal(data, &l); err != nil {
		return nil
	}
	var out []string
	for _, p := range l.Package {
		if r := p.Source.Registry; r != "" && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	if i := slices.Index(out, pypiSimple); i > 0 {
		out = slices.Insert(slices.Delete(out, i, i+1), 0, pypiSimple)
	}
	return out
}

const pypiSimple = "https://pypi.org/simple"
