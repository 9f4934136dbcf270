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
