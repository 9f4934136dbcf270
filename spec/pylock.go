package spec

import (
	"fmt"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// PylockRequirements are a PEP 751 lock's packages as requirement lines
// (name==version ; marker), which a resolver reads where it takes no pylock.toml. ok is
// false when the lock cannot be written so: a package from a directory, an archive or
// version control, or with no version, or a lock that does not parse (its install
// reports that).
func PylockRequirements(data []byte) (_ []byte, ok bool) {
	return pylockLines(data, false)
}

// PylockIndexRequirements are a PEP 751 lock's packages as hash-pinned requirement lines
// (name==version ; marker --hash=sha256:... for each of its files): what installs the
// lock from whatever index the build is given (a company's mirror of the index the lock
// records), checked against the lock's hashes. ok is false unless every package comes
// from an index (its `index` key) with hashes: a lock of files from other places is
// installed from them.
func PylockIndexRequirements(data []byte) (_ []byte, ok bool) {
	return pylockLines(data, true)
}

func pylockLines(data []byte, hashed bool) ([]byte, bool) {
	type file struct {
		Hashes map[string]string `toml:"hashes"`
	}
	var l struct {
		Packages []struct {
			Name      string         `toml:"name"`
			Version   string         `toml:"version"`
			Marker    string         `toml:"marker"`
			Index     string         `toml:"index"`
			Sdist     *file          `toml:"sdist"`
			Wheels    []file         `toml:"wheels"`
			Directory map[string]any `toml:"directory"`
			Archive   map[string]any `toml:"archive"`
			VCS       map[string]any `toml:"vcs"`
		} `toml:"packages"`
	}
	if err := toml.Unmarshal(data, &l); err != nil {
		return nil, false
	}
	var b strings.Builder
	for _, p := range l.Packages {
		if p.Name == "" || p.Version == "" || p.Directory != nil || p.Archive != nil || p.VCS != nil ||
			strings.ContainsAny(p.Name+p.Version, " ;@\n") || strings.Contains(p.Marker, "\n") {
			return nil, false
		}
		fmt.Fprintf(&b, "%s==%s", p.Name, p.Version)
		if p.Marker != "" {
			fmt.Fprintf(&b, " ; %s", p.Marker)
		}
		if hashed {
			files := p.Wheels
			if p.Sdist != nil {
				files = append(files, *p.Sdist)
			}
			n := 0
			for _, f := range files {
				if h := f.Hashes["sha256"]; h != "" && !strings.ContainsAny(h, " \n") {
					fmt.Fprintf(&b, " --hash=sha256:%s", h)
					n++
				}
			}
			if p.Index == "" || n == 0 {
				return nil, false
			}
		}
		b.WriteString("\n")
	}
	return []byte(b.String()), true
}
