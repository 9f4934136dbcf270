package spec

import (
	"fmt"
	"slices"
	"strings"

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

// UVLockRequirements are a uv.lock's index packages as pinned requirement lines
// (name==version, then --hash=sha256:... for each of its files when the lock records
// hashes: an index that serves none gives a lock without them), one per package and
// version, in the lock's order: what one package's own layer installs, from whatever
// index the build is given, checked against the lock's hashes. Packages from elsewhere
// (the project, workspace members, paths, VCS) have no line. nil when the lock does not
// parse (its export reports that), and when it records packages from more than one
// index: uv installs each from the index it records ([[tool.uv.index]]), which a line
// alone does not say.
func UVLockRequirements(data []byte) []byte {
	if len(UVLockIndexes(data)) > 1 {
		return nil
	}
	type file struct {
		Hash string `toml:"hash"`
	}
	var l struct {
		Package []struct {
			Name    string `toml:"name"`
			Version string `toml:"version"`
			Source  struct {
				Registry string `toml:"registry"`
			} `toml:"source"`
			Sdist  *file  `toml:"sdist"`
			Wheels []file `toml:"wheels"`
		} `toml:"package"`
	}
	if err := toml.Unmarshal(data, &l); err != nil {
		return nil
	}
	var b strings.Builder
	for _, p := range l.Package {
		files := p.Wheels
		if p.Sdist != nil {
			files = append(files, *p.Sdist)
		}
		var hashes []string
		for _, f := range files {
			if h, ok := strings.CutPrefix(f.Hash, "sha256:"); ok && !strings.ContainsAny(h, " \n") {
				hashes = append(hashes, "--hash=sha256:"+h)
			}
		}
		if p.Source.Registry == "" || p.Version == "" || strings.ContainsAny(p.Name+p.Version, " ;@\n") {
			continue
		}
		fmt.Fprintf(&b, "%s\n", strings.Join(append([]string{p.Name + "==" + p.Version}, hashes...), " "))
	}
	return []byte(b.String())
}
