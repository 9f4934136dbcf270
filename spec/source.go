package spec

import (
	"slices"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// Position is a 1-based line and column in the Acaifile.
type Position struct{ Line, Column int }

// Range is a span of the Acaifile; End is exclusive.
type Range struct{ Start, End Position }

// Source is the Acaifile text and an index of where each key and value stands in it,
// so that validation errors, lint findings and build steps can point at the line that
// asked for them.
type Source struct {
	Filename string
	Data     []byte
	keys     map[string]Range // "build.apk" → the key
	values   map[string]Range // "build.apk" → its value; "build.apk[1]" → an element
}

// KeyRange is where the key at path (e.g. "build.apk") stands, if it is in the file.
func (s *Source) KeyRange(path string) (Range, bool) {
	if s == nil {
		return Range{}, false
	}
	r, ok := s.keys[path]
	return r, ok
}

// Span is the whole of key = value for the key at path, if it is in the file.
func (s *Source) Span(path string) (Range, bool) {
	k, ok := s.KeyRange(path)
	if !ok {
		return Range{}, false
	}
	if v, ok := s.values[path]; ok && k.Start.Line <= v.End.Line {
		k.End = v.End
	}
	return k, true
}

// Locate is the best range for path ("apk[2]", "build.index_url", "test"): the value or
// element itself, else its key, else the closest enclosing key, else the first line.
func (s *Source) Locate(path string) Range {
	if s == nil {
		return Range{Start: Position{1, 1}, End: Position{1, 1}}
	}
	for p := path; p != ""; p = parentPath(p) {
		if r, ok := s.values[p]; ok {
			return r
		}
		if r, ok := s.keys[p]; ok {
			return r
		}
	}
	return Range{Start: Position{1, 1}, End: Position{1, 1}}
}

func parentPath(p string) string {
	if i := strings.LastIndexAny(p, ".["); i >= 0 {
		return p[:i]
	}
	return ""
}

// indexSource records the range of every key and value. It runs after go-toml has
// decoded the document, so the text is known to be valid TOML.
func indexSource(filename string, data []byte) *Source {
	s := &Source{Filename: filename, Data: data, keys: map[string]Range{}, values: map[string]Range{}}
	p := &locator{Parser: &unstable.Parser{}, lineStarts: []int{0}}
	p.Reset(data)
	for i, b := range data {
		if b == '\n' {
			p.lineStarts = append(p.lineStarts, i+1)
		}
	}
	table := ""
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = joinKey("", e.Key())
			if r, ok := keyRange(p, e.Key()); ok {
				s.keys[table] = r
			}
		case unstable.KeyValue:
			s.indexKeyValue(p, table, e)
		}
	}
	return s
}

func (s *Source) indexKeyValue(p *locator, table string, kv *unstable.Node) {
	path := joinKey(table, kv.Key())
	if r, ok := keyRange(p, kv.Key()); ok {
		s.keys[path] = r
	}
	s.indexValue(p, path, kv.Value())
}

func (s *Source) indexValue(p *locator, path string, v *unstable.Node) {
	if r, ok := nodeRange(p, v); ok {
		s.values[path] = r
	}
	switch v.Kind {
	case unstable.Array:
		i := 0
		for it := v.Children(); it.Next(); i++ {
			s.indexValue(p, path+"["+strconv.Itoa(i)+"]", it.Node())
		}
	case unstable.InlineTable:
		for it := v.Children(); it.Next(); {
			if n := it.Node(); n.Kind == unstable.KeyValue {
				s.indexKeyValue(p, path, n)
			}
		}
	}
}

func joinKey(prefix string, it unstable.Iterator) string {
	parts := []string{}
	if prefix != "" {
		parts = append(parts, prefix)
	}
	for it.Next() {
		parts = append(parts, string(it.Node().Data))
	}
	return strings.Join(parts, ".")
}

func keyRange(p *locator, it unstable.Iterator) (Range, bool) {
	var first, last *unstable.Node
	for it.Next() {
		if first == nil {
			first = it.Node()
		}
		last = it.Node()
	}
	if first == nil {
		return Range{}, false
	}
	a, ok1 := nodeRange(p, first)
	b, ok2 := nodeRange(p, last)
	return Range{Start: a.Start, End: b.End}, ok1 && ok2
}

func nodeRange(p *locator, n *unstable.Node) (Range, bool) {
	if n.Raw.Length == 0 {
		return Range{}, false
	}
	return Range{Start: p.position(int(n.Raw.Offset)), End: p.position(int(n.Raw.Offset + n.Raw.Length))}, true
}

// locator is the parser with where each line starts: go-toml's Parser.Shape counts the
// lines from the start of the file for every node, which makes a large file (a long
// packages list) take time quadratic in its size.
type locator struct {
	*unstable.Parser
	lineStarts []int // byte offset of each line's first byte
}

// position is the line and byte column of offset, as go-toml's Shape reports them.
func (l *locator) position(offset int) Position {
	line, _ := slices.BinarySearch(l.lineStarts, offset+1) // lines starting at or before offset
	return Position{Line: line, Column: offset - l.lineStarts[line-1] + 1}
}
