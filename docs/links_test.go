// Package docs holds the user documentation; its test checks the links of every Markdown
// file of the repository's documentation, with no network: relative links reach a file
// of the repository, and anchors a heading of it.
package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	mdLink  = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	heading = regexp.MustCompile(`(?m)^#{1,6} (.+)$`)
	fenced  = regexp.MustCompile("(?s)```.*?```")
)

func TestRelativeLinksAndAnchorsResolve(t *testing.T) {
	files, _ := filepath.Glob("*.md")
	for _, pattern := range []string{"rules/*.md", "../*.md", "../examples/*/README.md"} {
		more, _ := filepath.Glob(pattern)
		files = append(files, more...)
	}
	if len(files) < 10 {
		t.Fatalf("found only %d Markdown files: %v", len(files), files)
	}
	checked := 0
	for _, f := range files {
		dt, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllStringSubmatch(fenced.ReplaceAllString(string(dt), ""), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, anchor, _ := strings.Cut(target, "#")
			dest := f
			if path != "" {
				dest = filepath.Join(filepath.Dir(f), path)
			}
			if _, err := os.Stat(dest); err != nil {
				t.Errorf("%s: link %q: no such file %s", f, target, dest)
				continue
			}
			if anchor != "" && strings.HasSuffix(dest, ".md") && !hasAnchor(t, dest, anchor) {
				t.Errorf("%s: link %q: %s has no heading for #%s", f, target, dest, anchor)
			}
			checked++
		}
	}
	if checked < 20 {
		t.Errorf("checked only %d links", checked)
	}
}

// hasAnchor reports whether a heading of the Markdown file gives anchor as GitHub makes
// anchors: lower case, spaces to hyphens, punctuation other than hyphens dropped.
func hasAnchor(t *testing.T, file, anchor string) bool {
	dt, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range heading.FindAllStringSubmatch(fenced.ReplaceAllString(string(dt), ""), -1) {
		var b strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(h[1])) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
				b.WriteRune(r)
			}
		}
		if b.String() == anchor {
			return true
		}
	}
	return false
}
