package spec

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2"
)

// Error is a problem with the Acaifile: where it is, what is wrong, and what to do.
type Error struct {
	Filename string
	Range    Range
	Key      string // dotted path of the key at fault, "" for syntax errors
	Msg      string
	Hint     string // what to do about it
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s:%d:%d: %s", e.Filename, e.Range.Start.Line, e.Range.Start.Column, e.Msg)
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

// document is the TOML shape of an Acaifile: the keys that take two shapes (a string or
// a list, a number or a string) are decoded as they come and normalised afterwards.
type document struct {
	Acaifile
	Requirements any   `toml:"requirements"`
	Entrypoint   any   `toml:"entrypoint"`
	Cmd          any   `toml:"cmd"`
	Expose       []any `toml:"expose"`
	Test         struct {
		Test
		Command      any `toml:"command"`
		Requirements any `toml:"requirements"`
	} `toml:"test"`
	Healthcheck struct {
		Healthcheck
		Command any `toml:"command"`
	} `toml:"healthcheck"`
}

// Parse decodes, validates and fills the defaults of an Acaifile, as its bytes say it,
// before the build context is read (WithContext). Its error, if any, is a single *Error
// naming the line and column at fault.
func Parse(filename string, data []byte) (*Acaifile, error) {
	written, err := decode(filename, data)
	if err != nil {
		return nil, err
	}
	return written.WithContext(ContextFiles{})
}

// ParseWithContext is Parse, then WithContext: for a caller that has the context's files
// before the Acaifile (the tests, the test bed).
func ParseWithContext(filename string, data []byte, files ContextFiles) (*Acaifile, error) {
	a, err := Parse(filename, data)
	if err != nil {
		return nil, err
	}
	return a.WithContext(files)
}

// ContextFiles are the build context's files that change an Acaifile's meaning.
type ContextFiles struct {
	// Read: the context was looked at. Before (Parse), an Acaifile that names nothing to
	// install may still have its project detected, so the keys that select from a
	// project (build.extras, build.groups) are not checked yet.
	Read bool
	// PythonVersion is the content of .python-version (nil when there is none): when
	// `python` is not set, its version picks the base image, as pyenv, uv and Railpack
	// read it.
	PythonVersion []byte
	// Present are the context's root files among DetectedLocks and "pyproject.toml": when
	// the Acaifile names no requirements, packages or lock, a uv.lock beside a
	// pyproject.toml, else a pylock.toml, is the lock.
	Present []string
	// Pyproject is the content of the context's pyproject.toml (nil when there is none):
	// one that declares a [project], with no lock beside it, is installed unlocked.
	Pyproject []byte
}

// ContextFilesFrom are the ContextFiles of a build context whose root files read gives
// (ok false: there is none): the one place that knows which files those are, for the
// frontend (the files it read) and acai eject (the disk).
func ContextFilesFrom(read func(name string) (data []byte, ok bool)) ContextFiles {
	cf := ContextFiles{Read: true}
	cf.PythonVersion, _ = read(PythonVersionFile)
	cf.Pyproject, _ = read(PyprojectFile)
	for _, f := range append(slices.Clone(DetectedLocks), PyprojectFile) {
		if _, ok := read(f); ok {
			cf.Present = append(cf.Present, f)
		}
	}
	return cf
}

// DetectedLocks are the lock files acai finds by itself, in the order it looks for them.
var DetectedLocks = []string{LockUV, LockPylock, LockPoetry}

// PythonVersionFile is the file ContextFiles.PythonVersion comes from.
const PythonVersionFile = ".python-version"

// decode reads the bytes once: TOML, the keys of two shapes normalised. What the
// Acaifile leaves to its defaults and to the context is decided by WithContext.
func decode(filename string, data []byte) (*Acaifile, error) {
	// Some editors start a UTF-8 file with a byte order mark; BuildKit finds the
	// `# syntax=` line behind it, and its Dockerfile parser skips it: so does this one.
	// Positions stay those the user sees: line 1 column 1 is the first visible character.
	data = bytes.TrimPrefix(data, utf8BOM)
	if err := checkEncoding(filename, data); err != nil {
		return nil, err
	}
	var doc document
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, decodeError(filename, data, err)
	}
	src := indexSource(filename, data)
	p := &parser{src: src}
	a := doc.Acaifile
	a.Source = src
	a.Requirements = p.stringList("requirements", doc.Requirements)
	a.Entrypoint = p.command("entrypoint", doc.Entrypoint)
	a.Cmd = p.command("cmd", doc.Cmd)
	a.Expose = p.ports("expose", doc.Expose)
	a.Test = doc.Test.Test
	a.Test.Command = p.command("test.command", doc.Test.Command)
	a.Test.Requirements = p.stringList("test.requirements", doc.Test.Requirements)
	a.Healthcheck = doc.Healthcheck.Healthcheck
	a.Healthcheck.Command = p.command("healthcheck.command", doc.Healthcheck.Command)
	if p.err != nil {
		return nil, p.err
	}
	a.written = &a
	return &a, nil
}

// WithContext is the Acaifile with the context files that change its meaning applied:
// the Python of .python-version or requires-python, the lock or project found, and the
// checks that need them (files.Read). It starts again from what the Acaifile's bytes say
// (an Acaifile from Parse keeps them), so that a context's file decides as if it had been
// there at the first read; the bytes are not parsed again.
func (a *Acaifile) WithContext(files ContextFiles) (*Acaifile, error) {
	b := *a
	if a.written != nil {
		b = *a.written
		b.written = a.written
	}
	a = &b
	if err := a.choosePython(files); err != nil {
		return nil, err
	}
	if a.LooksForProject() {
		switch {
		case slices.Contains(files.Present, LockUV) && slices.Contains(files.Present, "pyproject.toml"):
			a.Lock, a.LockFrom = LockUV, "detected"
		case slices.Contains(files.Present, LockPylock):
			a.Lock, a.LockFrom = LockPylock, "detected"
		case slices.Contains(files.Present, LockPoetry) && slices.Contains(files.Present, PyprojectFile):
			a.Lock, a.LockFrom = LockPoetry, "detected"
		case DeclaresProject(files.Pyproject):
			a.UnlockedProject = true
		}
	}
	if err := a.validate(files.Read); err != nil {
		return nil, err
	}
	return a, nil
}

// LooksForProject: the Acaifile names nothing to install (no requirements, packages
// or lock), so the context's lock (DetectedLocks) or pyproject.toml decides.
func (a *Acaifile) LooksForProject() bool {
	return a.Lock == "" && len(a.Requirements) == 0 && len(a.Packages) == 0
}

// parser keeps the first error met while normalising, so each step can stay linear.
type parser struct {
	src *Source
	err *Error
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// pythonVersionLine is a .python-version entry acai can use: a CPython version, major.minor
// with an optional patch level or pre-release ("3.12", "3.12.7", "cpython-3.12.7").
var pythonVersionLine = regexp.MustCompile(`^(?:cpython-|python)?(3\.[0-9]+)(\.[0-9]+)?([a-z]+[0-9]*)?(?:[+-].*)?$`)

// pythonFromVersionFile is the first version in a .python-version file, major.minor or
// a patch release (a build suffix is dropped; a pre-release gives its major.minor)
// (pyenv allows several, one a line, and comments); an error names the file's line.
func pythonFromVersionFile(data []byte) (string, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	for i, line := range strings.Split(string(data), "\n") {
		entry := strings.TrimSpace(strings.SplitN(line, "#", 2)[0])
		if entry == "" {
			continue
		}
		m := pythonVersionLine.FindStringSubmatch(entry)
		if m == nil {
			col := strings.Index(line, entry) + 1
			return "", &Error{Filename: PythonVersionFile, Range: pointAt(i+1, col, len(entry)),
				Msg:  fmt.Sprintf("%q is not a CPython 3 version acai can build", entry),
				Hint: `write a version such as 3.12 or 3.12.7 there, or set python = "3.12" in the Acaifile`}
		}
		if m[3] != "" {
			return m[1], nil // a pre-release: its minor's newest image
		}
		return m[1] + m[2], nil
	}
	return "", nil
}

// checkEncoding requires UTF-8: a UTF-16 file, invalid UTF-8 or a byte order mark after
// the start is an error at its position, saying the file must be UTF-8.
func checkEncoding(filename string, data []byte) error {
	const hint = "save the Acaifile as UTF-8 (most editors: File > Save with Encoding > UTF-8)"
	if bytes.HasPrefix(data, []byte{0xFE, 0xFF}) || bytes.HasPrefix(data, []byte{0xFF, 0xFE}) ||
		(len(data) >= 2 && (data[0] == 0 || data[1] == 0)) {
		return &Error{Filename: filename, Range: pointAt(1, 1, 1),
			Msg: "the Acaifile is UTF-16 encoded; it must be UTF-8", Hint: hint}
	}
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return &Error{Filename: filename, Range: pointAt(line, col, 1),
				Msg: fmt.Sprintf("invalid UTF-8 (byte 0x%02X); the Acaifile must be UTF-8", data[i]), Hint: hint}
		case r == 0xFEFF:
			return &Error{Filename: filename, Range: pointAt(line, col, 1),
				Msg:  "a byte order mark (U+FEFF) after the start of the file",
				Hint: "delete it: it is invisible in most editors; only the file's first character may be one"}
		case r == '\n':
			line, col = line+1, 1
		default:
			col++
		}
		i += size
	}
	return nil
}

func (p *parser) fail(path, hint, format string, args ...any) {
	if p.err == nil {
		p.err = errorAt(p.src, path, hint, format, args...)
	}
}

// failAtKey is fail pointing at the key itself rather than its value.
func (p *parser) failAtKey(path, hint, format string, args ...any) {
	if p.err == nil {
		p.err = errorAt(p.src, path, hint, format, args...)
		if r, ok := p.src.KeyRange(path); ok {
			p.err.Range = r
		}
	}
}

func errorAt(src *Source, path, hint, format string, args ...any) *Error {
	return &Error{Filename: src.Filename, Range: src.Locate(path), Key: path, Msg: fmt.Sprintf(format, args...), Hint: hint}
}

func (p *parser) stringList(path string, v any) StringList {
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		return StringList{v}
	case []any:
		out := make(StringList, 0, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				p.fail(fmt.Sprintf("%s[%d]", path, i), "quote every entry: "+path+` = ["requirements.txt"]`, "`%s` must be a string or a list of strings, but element %d is %s", path, i+1, tomlKind(e))
				return nil
			}
			out = append(out, s)
		}
		return out
	}
	p.fail(path, "write a file name or a list of them: "+path+` = ["requirements.txt"]`, "`%s` must be a string or a list of strings, not %s", path, tomlKind(v))
	return nil
}

func (p *parser) command(path string, v any) Command {
	switch v := v.(type) {
	case nil:
		return Command{}
	case string:
		if strings.TrimSpace(v) == "" {
			p.fail(path, "give the command to run, or remove the key", "`%s` is empty", path)
		}
		return Command{Args: []string{v}, Shell: true}
	case []any:
		if len(v) == 0 {
			p.fail(path, "give the command to run, or remove the key", "`%s` is an empty list", path)
		}
		args := make([]string, 0, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				p.fail(fmt.Sprintf("%s[%d]", path, i), "quote every argument of an exec-form command", "`%s` element %d is %s, not a string", path, i+1, tomlKind(e))
				return Command{}
			}
			args = append(args, s)
		}
		return Command{Args: args}
	}
	p.fail(path, `use a list (exec form, ["python", "-m", "app"]) or a string (shell form)`, "`%s` must be a list or a string, not %s", path, tomlKind(v))
	return Command{}
}

var portPattern = regexp.MustCompile(`^([0-9]{1,5})(/(tcp|udp|sctp))?$`)

func (p *parser) ports(path string, v []any) []Port {
	var out []Port
	for i, e := range v {
		el := fmt.Sprintf("%s[%d]", path, i)
		var s string
		switch e := e.(type) {
		case int64:
			s = fmt.Sprint(e)
		case string:
			s = e
		default:
			p.fail(el, `write expose = [8080, "53/udp"]`, "`%s` takes port numbers or strings like \"53/udp\", not %s", path, tomlKind(e))
			return nil
		}
		m := portPattern.FindStringSubmatch(s)
		if m == nil || !validPort(m[1]) {
			p.fail(el, `write a port from 1 to 65535, optionally with /tcp, /udp or /sctp (8080, "53/udp")`, "`%s` has an invalid port %q", path, s)
			return nil
		}
		proto := m[3]
		if proto == "" {
			proto = "tcp"
		}
		out = append(out, Port(m[1]+"/"+proto))
	}
	return out
}

func validPort(s string) bool {
	var n int
	fmt.Sscan(s, &n)
	return n >= 1 && n <= 65535
}

func tomlKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("a %T", v)
}

var decodeTypePattern = regexp.MustCompile(`cannot decode TOML (\w+)`)

// decodeError turns go-toml's errors into one *Error in the Acaifile's terms.
func decodeError(filename string, data []byte, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) && len(strict.Errors) > 0 {
		de := strict.Errors[0]
		key := []string(de.Key())
		line, col := de.Position()
		name := key[len(key)-1]
		table := strings.Join(key[:len(key)-1], ".")
		valid := keysOf(reflect.TypeOf(Acaifile{}), key[:len(key)-1])
		where := "at the top level"
		if table != "" {
			where = "in [" + table + "]"
		}
		hint := "valid keys " + where + ": " + strings.Join(valid, ", ")
		if best := closest(name, valid); best != "" {
			hint = "did you mean `" + best + "`?"
		}
		return &Error{Filename: filename, Range: pointAt(line, col, len(name)), Key: strings.Join(key, "."),
			Msg: fmt.Sprintf("unknown key `%s` %s", name, where), Hint: hint}
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, col := de.Position()
		key := strings.Join(de.Key(), ".")
		if m := decodeTypePattern.FindStringSubmatch(de.Error()); m != nil && key != "" {
			t := fieldType(reflect.TypeOf(Acaifile{}), de.Key())
			return &Error{Filename: filename, Range: pointAt(line, col, 1), Key: key,
				Msg: fmt.Sprintf("`%s` must be %s, not a TOML %s", key, describeType(t), m[1]), Hint: typeHint(t)}
		}
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		return &Error{Filename: filename, Range: pointAt(line, col, 1), Key: key,
			Msg: "invalid TOML: " + msg, Hint: "the Acaifile is TOML (https://toml.io); check quoting and brackets on this line"}
	}
	return &Error{Filename: filename, Range: pointAt(1, 1, 1), Msg: "cannot read the Acaifile: " + err.Error()}
}

func pointAt(line, col, width int) Range {
	return Range{Start: Position{line, col}, End: Position{line, col + width}}
}

// keysOf lists the TOML keys of the table at path, from the struct tags.
func keysOf(t reflect.Type, path []string) []string {
	if ft := fieldType(t, path); ft != nil {
		t = ft
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if name := tomlName(t.Field(i)); name != "" {
			keys = append(keys, name)
		}
	}
	return keys
}

// fieldType is the Go type of the key at path, or nil when there is none.
func fieldType(t reflect.Type, path []string) reflect.Type {
	for _, k := range path {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil
		}
		found := false
		for i := 0; i < t.NumField(); i++ {
			if tomlName(t.Field(i)) == k {
				t, found = t.Field(i).Type, true
				break
			}
		}
		if !found {
			return nil
		}
	}
	return t
}

func tomlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	return name
}

func describeType(t reflect.Type) string {
	if t == nil {
		return "a value of another type"
	}
	switch t {
	case reflect.TypeOf(StringList{}):
		return "a string or a list of strings"
	case reflect.TypeOf(Command{}):
		return "a list (exec form) or a string (shell form)"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool, reflect.Pointer:
		return "true or false"
	case reflect.Int:
		return "an integer"
	case reflect.Slice:
		return "a list of strings"
	case reflect.Map:
		return "a table of strings (KEY = \"value\")"
	case reflect.Struct:
		return "a table"
	}
	return "a " + t.Kind().String()
}

// typeHint says how to write a value of type t.
func typeHint(t reflect.Type) string {
	switch {
	case t == nil:
		return "see the Acaifile reference, docs/reference.md"
	case t.Kind() == reflect.String:
		return `put the value in quotes, e.g. "3.12"`
	case t.Kind() == reflect.Bool || t.Kind() == reflect.Pointer:
		return "write true or false, without quotes"
	case t.Kind() == reflect.Slice:
		return `write a list of quoted strings, e.g. ["a", "b"]`
	case t.Kind() == reflect.Map:
		return `write a table of quoted values, e.g. { KEY = "value" }`
	}
	return "see the Acaifile reference, docs/reference.md"
}

// closest is the valid key a typo most likely meant, or "" when none is close.
func closest(name string, valid []string) string {
	best, bestDist := "", 3
	if len(name) <= 3 {
		bestDist = 2
	}
	for _, v := range valid {
		if d := editDistance(strings.ToLower(name), v); d < bestDist {
			best, bestDist = v, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
