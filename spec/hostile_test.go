package spec

import (
	"strings"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2/unstable"
)

// Hostile Acaifiles get an answer, never a hang or a panic: 1.6 MB with a 100,000-entry
// list (35 s before acai stopped using go-toml's Shape, which counts lines from the top
// for every value: quadratic), tables and inline tables nested 100,000 deep, invalid
// UTF-8. The durations are logged, not asserted (these machines are noisy); a hang
// would meet the test's timeout.
func TestHostileAcaifilesGetAnAnswer(t *testing.T) {
	cases := []struct{ name, src, wantErr string }{
		{"1.6 MB, 100,000 packages", "python = \"3.12\"\n" + strings.Repeat("# padding padding padding padding padding\n", 20000) +
			"packages = [" + strings.Repeat("\"x==1\", ", 100000) + "]\n", ""},
		{"tables nested 100,000 deep", "[a" + strings.Repeat(".a", 100000) + "]\n", "unknown key `a`"},
		{"inline tables nested 100,000 deep", "env = " + strings.Repeat("{a=", 100000) + "1" + strings.Repeat("}", 100000) + "\n", "nested more than the maximum"},
		{"arrays nested 100,000 deep", "packages = " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n", "nested more than the maximum"},
		{"invalid UTF-8", "python = \"3.12\"\nentrypoint = [\"\xff\xfe\"]\n", "Acaifile:2:16: invalid UTF-8"},
	}
	for _, c := range cases {
		start := time.Now()
		a, err := Parse("Acaifile", []byte(c.src))
		t.Logf("%s (%d bytes): answered in %v", c.name, len(c.src), time.Since(start))
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.wantErr == "" && len(a.Packages) != 100000:
			t.Errorf("%s: %d packages", c.name, len(a.Packages))
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%s: error %v, want %q", c.name, err, c.wantErr)
		}
	}
}

// The line index gives every node the position go-toml's Shape gives it.
func TestLocatorAgreesWithGoTOML(t *testing.T) {
	data := []byte("python = \"3.12\"\n\n[build]\napk = [\"a\",\n  \"bé\"]\n[runtime]\nimage = 'x' # c\n")
	p := &locator{Parser: &unstable.Parser{}, lineStarts: []int{0}}
	for i, b := range data {
		if b == '\n' {
			p.lineStarts = append(p.lineStarts, i+1)
		}
	}
	p.Reset(data)
	var walk func(n *unstable.Node)
	checked := 0
	walk = func(n *unstable.Node) {
		if n.Raw.Length > 0 {
			sh := p.Shape(n.Raw)
			got, _ := nodeRange(p, n)
			if want := (Range{Position{sh.Start.Line, sh.Start.Column}, Position{sh.End.Line, sh.End.Column}}); got != want {
				t.Errorf("%q: %v, go-toml says %v", p.Raw(n.Raw), got, want)
			}
			checked++
		}
		for it := n.Children(); it.Next(); {
			walk(it.Node())
		}
	}
	for p.NextExpression() {
		walk(p.Expression())
	}
	if checked < 8 {
		t.Fatalf("only %d nodes checked", checked)
	}
}
