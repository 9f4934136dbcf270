package spec

import (
	"os"
	"testing"
	"time"
)

// The frontend parses and lints the Acaifile on every build request; these show what
// that costs (go test -bench . ./spec).
func BenchmarkParseExample(b *testing.B) {
	for _, name := range []string{"hello", "lambda", "web"} {
		dt, err := os.ReadFile("../examples/" + name + "/Acaifile")
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(dt)))
			for b.Loop() {
				if _, err := Parse("Acaifile", dt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseError(b *testing.B) {
	dt := []byte("python = \"3.12\"\n[build]\nindex_ulr = \"https://x\"\n")
	for b.Loop() {
		if _, err := Parse("Acaifile", dt); err == nil {
			b.Fatal("no error")
		}
	}
}

func BenchmarkLint(b *testing.B) {
	a, err := Parse("Acaifile", []byte("python = \"3.12\"\nrequirements = \"r.txt\"\npackages = [\"a==1\", \"b\"]\napk = [\"gcc\", \"libstdc++\"]\n"))
	if err != nil {
		b.Fatal(err)
	}
	files := map[string][]byte{"r.txt": []byte("numpy==2.1.3\npandas>=2\nscipy==1.14.1\n")}
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		Lint(a, files, now)
	}
}
