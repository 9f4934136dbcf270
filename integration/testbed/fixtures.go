package testbed

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// CopyDir copies an example (or any directory) into dst, so a test can edit its copy.
func CopyDir(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		dt, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, dt, 0o644)
	})
}

// WriteFiles writes files (relative path → content) under dir.
func WriteFiles(dir string, files map[string]string) error {
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// WithSyntax replaces an Acaifile's `# syntax=` line so that it names the frontend
// image in the loopback registry, the only registry here.
func (b *Bed) WithSyntax(acaifile string) string {
	lines := strings.SplitN(acaifile, "\n", 2)
	rest := acaifile
	if strings.HasPrefix(lines[0], "# syntax=") && len(lines) == 2 {
		rest = lines[1]
	}
	return "# syntax=" + b.Frontend + "\n" + rest
}

// Module is a one-module pure-Python wheel made by the test bed, not from PyPI: its
// module prints its name when run as __main__ and has NAME = name, enough to prove a
// package was installed from where a test put it (an extra index, a find-links page).
func Module(name, version string, requires ...string) Wheel {
	return Wheel{
		Name: name, Version: version, Requires: requires,
		Files: map[string]string{name + ".py": "NAME = " + fmt.Sprintf("%q", name) + "\nif __name__ == '__main__':\n    print(NAME)\n"},
	}
}
