package spec

import (
	"slices"
	"testing"
)

func TestUVLockIndexes(t *testing.T) {
	lock := `version = 1
[[package]]
name = "torch"
version = "2.9.0"
source = { registry = "https://download.example/whl/cpu" }
[[package]]
name = "cowsay"
version = "6.1"
source = { registry = "https://pypi.org/simple" }
[[package]]
name = "greeter"
version = "0.1.0"
source = { editable = "." }
[[package]]
name = "tzdata"
version = "2026.6"
source = { registry = "https://download.example/whl/cpu" }
`
	if got, want := UVLockIndexes([]byte(lock)), []string{"https://pypi.org/simple", "https://download.example/whl/cpu"}; !slices.Equal(got, want) {
		t.Errorf("UVLockIndexes = %q, want %q", got, want)
	}
	if got := UVLockIndexes([]byte("not = [toml")); got != nil {
		t.Errorf("a lock that does not parse: %q", got)
	}
}

// A uv.lock's index packages as pinned lines with their hashes, one per package version
// (a fork's two versions of one package each get theirs; a package the lock has no hash
// for, a line without); the project, path and VCS packages get none.
func TestUVLockRequirements(t *testing.T) {
	lock := `version = 1
[[package]]
name = "cowsay"
version = "6.1"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://files.example/cowsay-6.1-py3-none-any.whl", hash = "sha256:aaa", size = 1 }]
[[package]]
name = "numpy"
version = "2.4.6"
source = { registry = "https://pypi.org/simple" }
sdist = { url = "https://files.example/numpy-2.4.6.tar.gz", hash = "sha256:s1", size = 1 }
wheels = [{ url = "https://files.example/a.whl", hash = "sha256:w1", size = 1 }, { url = "https://files.example/b.whl", hash = "sha256:w2", size = 1 }]
[[package]]
name = "numpy"
version = "2.5.5"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://files.example/c.whl", hash = "sha256:w3", size = 1 }]
[[package]]
name = "greeter"
version = "0.1.0"
source = { editable = "." }
[[package]]
name = "lib"
version = "1.0"
source = { git = "https://github.com/example/lib?rev=main#abc" }
[[package]]
name = "nohash"
version = "1.0"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://files.example/nohash-1.0-py3-none-any.whl" }]
`
	want := "cowsay==6.1 --hash=sha256:aaa\n" +
		"numpy==2.4.6 --hash=sha256:w1 --hash=sha256:w2 --hash=sha256:s1\n" +
		"numpy==2.5.5 --hash=sha256:w3\n" +
		"nohash==1.0\n"
	if got := string(UVLockRequirements([]byte(lock))); got != want {
		t.Errorf("UVLockRequirements:\n%s\nwant\n%s", got, want)
	}
	if got := UVLockRequirements([]byte("not = [toml")); got != nil {
		t.Errorf("a lock that does not parse: %q", got)
	}
	twoIndexes := lock + `[[package]]
name = "torch"
version = "2.9.0"
source = { registry = "https://download.example/whl/cpu" }
wheels = [{ url = "https://download.example/whl/cpu/torch-2.9.0-cp312-none-linux_x86_64.whl", hash = "sha256:t1", size = 1 }]
`
	if got := UVLockRequirements([]byte(twoIndexes)); got != nil {
		t.Errorf("a lock of two indexes: %q", got)
	}
}
