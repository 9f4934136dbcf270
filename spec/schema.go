package spec

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
)

// SchemaID is where the published schema lives; editors use it to cache the schema.
const SchemaID = "https://github.com/acai-build/acai/raw/main/schema/acaifile.schema.json"

// Schema is the JSON Schema (draft 2020-12) of the Acaifile, generated from the spec
// types, their `toml`, `doc`, `default` and `enum` tags and the version table, so it
// cannot drift from what Parse accepts. schema/acaifile.schema.json is its output.
func Schema() []byte {
	s := typeSchema(reflect.TypeOf(Acaifile{}))
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	s["$id"] = SchemaID
	s["title"] = "Acaifile"
	s["description"] = "acai: a slim Alpine Python image from a short TOML file (https://github.com/acai-build/acai)."
	props := s["properties"].(map[string]any)
	// Versions the table does not list are tried against the registry: the schema checks
	// their form and offers the listed ones.
	props["python"].(map[string]any)["pattern"] = pythonVersionPattern.String()
	props["python"].(map[string]any)["examples"] = PythonVersions()
	props["alpine"].(map[string]any)["pattern"] = alpineVersionPattern.String()
	props["alpine"].(map[string]any)["examples"] = allAlpineReleases()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return buf.Bytes()
}

func typeSchema(t reflect.Type) map[string]any {
	switch t {
	case reflect.TypeOf(StringList{}):
		return map[string]any{"oneOf": []any{
			map[string]any{"type": "string"},
			map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
		}}
	case reflect.TypeOf(Command{}):
		return map[string]any{"oneOf": []any{
			map[string]any{"type": "string", "minLength": 1, "description": "shell form, run with /bin/sh -c"},
			map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "minItems": 1, "description": "exec form"},
		}}
	case reflect.TypeOf(Port("")):
		return map[string]any{"oneOf": []any{
			map[string]any{"type": "integer", "minimum": 1, "maximum": 65535},
			map[string]any{"type": "string", "pattern": portPattern.String()},
		}}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return typeSchema(t.Elem())
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int:
		return map[string]any{"type": "integer", "minimum": 0}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": typeSchema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": typeSchema(t.Elem())}
	case reflect.Struct:
		props := map[string]any{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := tomlName(f)
			if name == "" {
				continue
			}
			p := typeSchema(f.Type)
			if d := f.Tag.Get("doc"); d != "" {
				p["description"] = d
			}
			if d, ok := f.Tag.Lookup("default"); ok {
				p["default"] = defaultValue(f.Type, d)
			}
			if e := f.Tag.Get("enum"); e != "" {
				p["enum"] = strings.Split(e, ",")
			}
			props[name] = p
		}
		return map[string]any{"type": "object", "additionalProperties": false, "properties": props}
	}
	return map[string]any{}
}

func defaultValue(t reflect.Type, s string) any {
	if t.Kind() == reflect.Bool || (t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Bool) {
		return s == "true"
	}
	return s
}

func allAlpineReleases() []string {
	var all []string
	for _, rs := range pythonAlpine {
		for _, r := range rs {
			if !slices.Contains(all, r) {
				all = append(all, r)
			}
		}
	}
	slices.SortFunc(all, compareVersions)
	return all
}
