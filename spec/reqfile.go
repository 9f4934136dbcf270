package spec

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

// RefKind is what a requirement file's line makes pip open in the build context.
type RefKind string

const (
	RefRequirements RefKind = "requirements" // -r / --requirement: another requirement file
	RefConstraints  RefKind = "constraints"  // -c / --constraint: a constraint file, read the same way
	RefLocalPath    RefKind = "path"         // a local project directory or archive to install
	RefFindLinks    RefKind = "find-links"   // -f / --find-links: a directory of distributions
)

// Ref is one context path a requirement file makes pip open.
type Ref struct {
	Kind RefKind
	// Paths are the context paths pip may open, in the order pip tries them: one path,
	// or for --find-links the path relative to the requirement file, then relative to
	// the working directory (pip takes the first that exists).
	Paths []string
	File  string // the requirement file
	Line  int    // its line
	Text  string // the line's value as written
}

var (
	// urlPattern is a URL with a scheme (https://, git+ssh://, file:///...).
	urlPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)
	// optionPattern splits "-r x", "-rx", "--requirement x", "--requirement=x".
	optionPattern = regexp.MustCompile(`^(-[rcfie]|--requirement|--constraint|--find-links|--editable|--index-url|--extra-index-url)(?:=|\s+|)(\S.*)?$`)
	archiveSuffix = regexp.MustCompile(`\.(whl|tar\.gz|tgz|tar\.bz2|tar\.xz|zip)$`)
)

// RequirementRefs reads a requirement file (at context path file) as pip does and lists
// the context paths it makes pip open: included requirement and constraint files
// (relative to the file, as pip resolves them), local projects and --find-links
// directories (relative to the directory pip runs in: the context root, as for a user
// who runs pip from the project's root). A path outside the context, an absolute one,
// or an editable install of a local path is an *Error at the file's line.
func RequirementRefs(file string, data []byte) ([]Ref, error) {
	var refs []Ref
	dir := path.Dir(file)
	for _, l := range logicalLines(data) {
		text := l.text
		fail := func(hint, format string, args ...any) error {
			col := strings.Index(l.first, strings.Fields(text)[0]) + 1
			return &Error{Filename: file, Range: pointAt(l.line, max(col, 1), len(text)), Msg: fmt.Sprintf(format, args...), Hint: hint}
		}
		add := func(kind RefKind, value string, candidates ...string) error {
			var paths []string
			for _, c := range candidates {
				p, ok := contextRel(c)
				if !ok {
					return fail("use a path inside the build context, relative to the requirement file (-r, -c) or to the context's root",
						"%q points outside the build context", value)
				}
				paths = append(paths, p)
			}
			refs = append(refs, Ref{Kind: kind, Paths: paths, File: file, Line: l.line, Text: value})
			return nil
		}
		if m := optionPattern.FindStringSubmatch(text); m != nil {
			value := strings.TrimSpace(m[2])
			if value == "" {
				return nil, fail("give the option its value on the same line", "%s has no value", m[1])
			}
			if host, ok := URLCredentials(value); ok {
				return nil, fail(CredentialsHint(host), "%s carries credentials: they would be recorded in the build's provenance", m[1])
			}
			switch m[1] {
			case "-r", "--requirement":
				if !urlPattern.MatchString(value) {
					if err := add(RefRequirements, value, path.Join(dir, value)); err != nil {
						return nil, err
					}
				}
			case "-c", "--constraint":
				if !urlPattern.MatchString(value) {
					if err := add(RefConstraints, value, path.Join(dir, value)); err != nil {
						return nil, err
					}
				}
			case "-f", "--find-links":
				if !urlPattern.MatchString(value) {
					if err := add(RefFindLinks, value, path.Join(dir, value), value); err != nil {
						return nil, err
					}
				}
			case "-e", "--editable":
				return nil, fail(fmt.Sprintf("install it into the image instead: write %q (without -e); the runner holds the installed packages, not the builder's sources", strings.TrimPrefix(value, "file:")),
					"editable install %q: an editable install links to its source directory, which stays in the builder", value)
			}
			continue
		}
		if strings.HasPrefix(text, "-") {
			continue // another pip option (--index-url, --hash on its own, --pre, ...)
		}
		if p, ok := localPath(text); ok {
			if err := add(RefLocalPath, p, p); err != nil {
				return nil, err
			}
		}
	}
	return refs, nil
}

// localPath is the path of a requirement line that names a local project or archive
// ("./libs/pkg", ".", "dist/x.whl", "file:libs/pkg", "pkg @ file:libs/pkg").
func localPath(req string) (string, bool) {
	req = strings.TrimSpace(strings.SplitN(req, ";", 2)[0]) // environment markers
	if !urlPattern.MatchString(req) {
		if _, url, ok := strings.Cut(req, "@"); ok { // name @ URL
			req = strings.TrimSpace(url)
		}
	}
	fields := strings.Fields(req)
	if len(fields) == 0 {
		return "", false
	}
	req = fields[0] // a trailing option such as --hash=...
	if rest, ok := strings.CutPrefix(req, "file:"); ok {
		return strings.TrimPrefix(rest, "//"), true // file:///abs stays absolute: refused
	}
	if urlPattern.MatchString(req) {
		return "", false
	}
	if req == "." || req == ".." || strings.HasPrefix(req, "./") || strings.HasPrefix(req, "../") || strings.HasPrefix(req, "/") ||
		(strings.Contains(req, "/") && !strings.ContainsAny(req, "<>=!~[")) || archiveSuffix.MatchString(req) {
		return req, true
	}
	return "", false
}

// contextRel cleans p as a path relative to the context root; false when it is absolute
// or leaves the context.
func contextRel(p string) (string, bool) {
	if path.IsAbs(p) {
		return "", false
	}
	c := path.Clean(p)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", false
	}
	return c, true
}

type logicalLine struct {
	line  int    // first physical line
	first string // that line's text, for columns
	text  string // the joined, comment-free line
}

// logicalLines joins pip's continuation lines (a trailing backslash) and drops comments
// ("#" at the start or after whitespace) and blank lines.
func logicalLines(data []byte) []logicalLine {
	var out []logicalLine
	var cur *logicalLine
	for i, raw := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		line := raw
		if j := strings.Index(line, "#"); j == 0 || j > 0 && (line[j-1] == ' ' || line[j-1] == '\t') {
			line = line[:j]
		}
		cont := strings.HasSuffix(line, "\\")
		line = strings.TrimSuffix(line, "\\")
		if cur == nil {
			cur = &logicalLine{line: i + 1, first: raw}
		}
		cur.text += line
		if !cont {
			if t := strings.TrimSpace(cur.text); t != "" {
				cur.text = strings.Join(strings.Fields(t), " ")
				out = append(out, *cur)
			}
			cur = nil
		}
	}
	return out
}

// indexOptionPattern matches the options of a requirement file that say where pip finds
// packages; they apply to the whole install, wherever they stand.
var indexOptionPattern = regexp.MustCompile(`^(-i|--index-url|--extra-index-url|--no-index|-f|--find-links|--trusted-host)(=|\s|$)`)

// IndexOptions are a requirement file's lines that say where packages come from
// (--index-url, --extra-index-url, --no-index, --find-links, --trusted-host), as
// written: an install that takes the file's packages one by one (a package layer, a
// wheel built from source) carries them, so that each package comes from where the file
// says.
func IndexOptions(data []byte) []string {
	var out []string
	for _, l := range logicalLines(data) {
		if indexOptionPattern.MatchString(l.text) {
			out = append(out, l.text)
		}
	}
	return out
}

// PinnedLines are a requirement file's pinned requirements (name==version, with their
// hashes and markers), as written, by normalized name, in the file's order (a lock's
// export may pin two versions of a name, one per fork). A hash-pinned file (pip-compile
// --generate-hashes, uv pip compile --generate-hashes, poetry export) gives each
// package's own line, which its package layer installs, checked against those hashes.
func PinnedLines(data []byte) map[string][]string {
	out := map[string][]string{}
	for _, l := range logicalLines(data) {
		if strings.HasPrefix(l.text, "-") {
			continue
		}
		name, _, ok := strings.Cut(l.text, "==")
		name, _, _ = strings.Cut(strings.TrimSpace(name), "[") // extras
		if !ok || name == "" || strings.ContainsAny(name, "<>!~@ ;") {
			continue
		}
		n := NormalizeName(name)
		out[n] = append(out[n], l.text)
	}
	return out
}

// PinnedVersion is the version a PinnedLines line pins.
func PinnedVersion(line string) string {
	_, rest, _ := strings.Cut(line, "==")
	v, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
	v, _, _ = strings.Cut(v, ";")
	return v
}
