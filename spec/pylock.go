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
	var l struct {
		Packages []struct {
			Name      string         `toml:"name"`
			Version   string         `toml:"version"`
			Marker    string         `toml:"marker"`
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
		b.WriteString("\n")
	}
	return []byte(b.String()), true
}
