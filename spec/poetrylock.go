package spec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/pelletier/go-toml/v2"
)

// A poetry.lock is installed without Poetry: the frontend reads it and writes the
// requirement file Poetry's own exporter would (name==version ; markers --hash=...), for
// the selected groups, which uv installs with --no-deps --require-hashes. So the runner
// holds no Poetry, and the install step's only input is that file: an app-code change
// never re-runs it.

// poetryLock is the part of a poetry.lock (lock-version 2.1, Poetry 2) acai reads.
type poetryLock struct {
	Package []struct {
		Name     string   `toml:"name"`
		Version  string   `toml:"version"`
		Optional bool     `toml:"optional"`
		Groups   []string `toml:"groups"`
		Markers  any      `toml:"markers"` // a marker, or a table of them by group
		Files    []struct {
			File string `toml:"file"`
			Hash string `toml:"hash"`
		} `toml:"files"`
		Source *struct {
			Type      string `toml:"type"`
			URL       string `toml:"url"`
			Reference string `toml:"reference"`
		} `toml:"source"`
	} `toml:"package"`
	Metadata struct {
		LockVersion string `toml:"lock-version"`
		ContentHash string `toml:"content-hash"`
	} `toml:"metadata"`
}

// PoetryMainGroup is the group of a Poetry project's own dependencies, always installed.
const PoetryMainGroup = "main"

// PoetryRequirements is the requirement file that installs the Acaifile's poetry.lock
// exactly as locked: every package of the main group and of `build.groups`, pinned,
// with its markers and the hashes of its files. lock and pyproject are the contents of
// the lock and of the pyproject.toml beside it (nil when the context has none). A lock
// out of date with pyproject.toml is an error at the Acaifile's `lock` line; a problem
// in the lock, an error at the lock's line.
func (a *Acaifile) PoetryRequirements(lock, pyproject []byte) ([]byte, error) {
	here := func(msg, hint string) error {
		return &Error{Filename: a.Source.Filename, Range: a.Source.Locate("lock"), Key: "lock", Msg: msg, Hint: hint}
	}
	pyprojectFile := path.Join(a.ProjectDir(), "pyproject.toml")
	switch {
	case lock == nil:
		return nil, here(fmt.Sprintf("%s is not in the build context", a.Lock), "check the path and .dockerignore")
	case pyproject == nil:
		return nil, here(fmt.Sprintf("%s has no %s beside it in the build context", a.Lock, pyprojectFile), "a poetry.lock is installed with its project's pyproject.toml")
	}
	var l poetryLock
	if err := toml.Unmarshal(lock, &l); err != nil {
		return nil, tomlFileError(a.Lock, err, "it is not a valid poetry.lock: run `poetry lock` to write it again")
	}
	if v := l.Metadata.LockVersion; !versionAtLeast(v, 2, 1) {
		return nil, &Error{Filename: a.Lock, Range: lineOf(lock, "lock-version"), Msg: fmt.Sprintf("lock-version %q records no groups and markers, which acai installs from", v),
			Hint: "write it again with Poetry 2 (`poetry lock`), which writes lock-version 2.1"}
	}
	var doc map[string]any
	if err := toml.Unmarshal(pyproject, &doc); err != nil {
		return nil, tomlFileError(pyprojectFile, err, "fix pyproject.toml")
	}
	if !slices.Contains(poetryContentHashes(doc), l.Metadata.ContentHash) {
		return nil, here(fmt.Sprintf("%s is out of date with %s (its content-hash is not that of pyproject.toml's dependencies)", a.Lock, pyprojectFile),
			"run `poetry lock` and commit "+a.Lock)
	}
	groups := append([]string{PoetryMainGroup}, a.Build.Groups...)
	var out, indexes []string
	for _, p := range l.Package {
		at := func(msg, hint string) error {
			return &Error{Filename: a.Lock, Range: lineOf(lock, fmt.Sprintf("name = %q", p.Name)), Msg: msg, Hint: hint}
		}
		var marks []string
		for _, g := range p.Groups {
			if !slices.Contains(groups, g) {
				continue
			}
			m, err := groupMarker(p.Markers, g)
			if err != nil {
				return nil, at(fmt.Sprintf("package %s: %v", p.Name, err), "write the lock again with `poetry lock`")
			}
			marks = append(marks, m)
		}
		if len(marks) == 0 {
			continue // only in groups not selected
		}
		if p.Source != nil && p.Source.Type != "legacy" {
			return nil, at(fmt.Sprintf("package %s comes from a %s source (%s); acai installs a poetry.lock's packages from package indexes", p.Name, p.Source.Type, p.Source.URL),
				"publish it to an index and lock it from there, or use a uv.lock")
		}
		if p.Source != nil && !slices.Contains(indexes, p.Source.URL) {
			if host, ok := URLCredentials(p.Source.URL); ok {
				return nil, at(fmt.Sprintf("the source of package %s has credentials in its URL", p.Name), CredentialsHint(host))
			}
			indexes = append(indexes, p.Source.URL)
		}
		if len(p.Files) == 0 {
			return nil, at(fmt.Sprintf("package %s lists no files, so it cannot be installed by hash", p.Name), "write the lock again with `poetry lock`")
		}
		line := p.Name + "==" + p.Version
		if m := joinMarkers(marks); m != "" {
			line += " ; " + m
		}
		for _, f := range p.Files {
			line += " \\\n    --hash=" + f.Hash
		}
		out = append(out, line)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s, exported by acai for the groups %s\n", a.Lock, strings.Join(groups, ", "))
	for _, u := range indexes {
		fmt.Fprintf(&b, "--extra-index-url %s\n", u)
	}
	for _, line := range out {
		b.WriteString(line + "\n")
	}
	return b.Bytes(), nil
}

// groupMarker is the marker under which the package is needed for group g: lock 2.1
// writes one marker, or a table by group when they differ; none means always.
func groupMarker(markers any, g string) (string, error) {
	switch m := markers.(type) {
	case nil:
		return "", nil
	case string:
		return m, nil
	case map[string]any:
		s, ok := m[g].(string)
		if !ok {
			return "", fmt.Errorf("its markers name no marker for group %q", g)
		}
		return s, nil
	}
	return "", fmt.Errorf("its markers are neither a string nor a table")
}

// joinMarkers is the marker under which any of marks holds; "" when one is always true.
func joinMarkers(marks []string) string {
	if slices.Contains(marks, "") {
		return ""
	}
	slices.Sort(marks)
	marks = slices.Compact(marks)
	if len(marks) == 1 {
		return marks[0]
	}
	return "(" + strings.Join(marks, ") or (") + ")"
}

// poetryContentHashes are the content-hash values Poetry writes for this pyproject.toml:
// the sha256 of the JSON of its dependency declarations (Poetry's
// Locker._get_content_hash), with and without [dependency-groups], which Poetry before
// 2.3 left out.
func poetryContentHashes(doc map[string]any) []string {
	var out []string
	for _, withGroups := range []bool{true, false} {
		sum := sha256.Sum256([]byte(pythonJSON(poetryRelevantContent(doc, withGroups))))
		out = append(out, hex.EncodeToString(sum[:]))
	}
	return out
}

func poetryRelevantContent(doc map[string]any, withGroups bool) map[string]any {
	table := func(m map[string]any, key string) map[string]any {
		t, _ := m[key].(map[string]any)
		return t
	}
	project := table(doc, "project")
	var groups map[string]any
	if withGroups {
		groups = table(doc, "dependency-groups")
	}
	poetry := table(table(doc, "tool"), "poetry")
	relevantProject := map[string]any{}
	for _, k := range []string{"requires-python", "dependencies", "optional-dependencies"} {
		if v, ok := project[k]; ok && v != nil {
			relevantProject[k] = v
		}
	}
	legacy := []string{"dependencies", "source", "extras", "dev-dependencies"}
	relevantPoetry := map[string]any{}
	for _, k := range append(slices.Clone(legacy), "group") {
		v, ok := poetry[k]
		if !ok && (!slices.Contains(legacy, k) || len(relevantProject) > 0 || len(groups) > 0) {
			continue
		}
		relevantPoetry[k] = v // nil (JSON null) for a legacy key that is not there
	}
	content := map[string]any{}
	if len(relevantProject) > 0 {
		content["project"] = relevantProject
	}
	if len(groups) > 0 {
		content["dependency-groups"] = groups
	}
	if len(content) == 0 {
		return relevantPoetry // Poetry 1's layout, kept for its hashes
	}
	content["tool"] = map[string]any{"poetry": relevantPoetry}
	return content
}

// pythonJSON is json.dumps(v, sort_keys=True) as Python writes it: ", " and ": "
// separators, non-ASCII as \u escapes, keys sorted by code point.
func pythonJSON(v any) string {
	var b strings.Builder
	var write func(v any)
	write = func(v any) {
		switch v := v.(type) {
		case nil:
			b.WriteString("null")
		case bool:
			b.WriteString(strconv.FormatBool(v))
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		case float64:
			b.WriteString(pythonFloat(v))
		case string:
			writePythonString(&b, v)
		case []any:
			b.WriteByte('[')
			for i, e := range v {
				if i > 0 {
					b.WriteString(", ")
				}
				write(e)
			}
			b.WriteByte(']')
		case map[string]any:
			b.WriteByte('{')
			for i, k := range slices.Sorted(maps.Keys(v)) {
				if i > 0 {
					b.WriteString(", ")
				}
				writePythonString(&b, k)
				b.WriteString(": ")
				write(v[k])
			}
			b.WriteByte('}')
		default: // TOML dates and times: Poetry's TOML reader makes strings of none of them
			writePythonString(&b, fmt.Sprint(v))
		}
	}
	write(v)
	return b.String()
}

func pythonFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case math.IsNaN(f):
		return "NaN"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}

func writePythonString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || r > 0x7e && r < 0x10000:
			fmt.Fprintf(b, `\u%04x`, r)
		case r >= 0x10000:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(b, `\u%04x\u%04x`, r1, r2)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

var majorMinorPattern = regexp.MustCompile(`^(\d+)\.(\d+)`)

// versionAtLeast reports whether a "major.minor" version is at least major.minor.
func versionAtLeast(v string, major, minor int) bool {
	m := majorMinorPattern.FindStringSubmatch(v)
	if m == nil {
		return false
	}
	x, _ := strconv.Atoi(m[1])
	y, _ := strconv.Atoi(m[2])
	return x > major || x == major && y >= minor
}

// lineOf is the range of the first line of dt that starts with prefix (1:1 if none).
func lineOf(dt []byte, prefix string) Range {
	for i, line := range strings.Split(string(dt), "\n") {
		if strings.HasPrefix(line, prefix) {
			return pointAt(i+1, 1, len(strings.TrimRight(line, "\r")))
		}
	}
	return pointAt(1, 1, 1)
}

// tomlFileError is a TOML syntax or type error in a context file, at its position.
func tomlFileError(file string, err error, hint string) error {
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, col := de.Position()
		return &Error{Filename: file, Range: pointAt(line, col, 1), Msg: de.Error(), Hint: hint}
	}
	return &Error{Filename: file, Range: pointAt(1, 1, 1), Msg: err.Error(), Hint: hint}
}
