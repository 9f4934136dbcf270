package testbed

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/pelletier/go-toml/v2"
)

// LockedFile is one real distribution file from PyPI, pinned in integration/pypi/pypi.lock
// and fetched once on the host by hack/setup (hack/pypi_fetch.py) into .cache/pypi.
type LockedFile struct {
	Project  string   `toml:"project"`
	Version  string   `toml:"version"`
	Filename string   `toml:"filename"`
	SHA256   string   `toml:"sha256"`
	Size     int64    `toml:"size"`
	Targets  []string `toml:"targets"` // standin, alpine-x86_64, alpine-aarch64, sdist
}

// PyPILock is integration/pypi/pypi.lock.
type PyPILock struct {
	Files []LockedFile `toml:"file"`
}

// ReadPyPILock reads the lock of the repository at repo.
func ReadPyPILock(repo string) (*PyPILock, error) {
	dt, err := os.ReadFile(filepath.Join(repo, "integration/pypi/pypi.lock"))
	if err != nil {
		return nil, err
	}
	var l PyPILock
	if err := toml.Unmarshal(dt, &l); err != nil {
		return nil, fmt.Errorf("integration/pypi/pypi.lock: %w", err)
	}
	return &l, nil
}

// Version is the locked version of project (the first file's), or "".
func (l *PyPILock) Version(project string) string {
	for _, f := range l.Files {
		if f.Project == project {
			return f.Version
		}
	}
	return ""
}
