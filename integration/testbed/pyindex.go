package testbed

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// PackageIndex is a PEP 503 "simple" index on loopback, standing in for PyPI. It serves
// the real files of integration/pypi/pypi.lock (fetched by hack/setup) beside the few
// packages tests make. Build steps reach it because buildkitd runs them on the host
// network; they never reach PyPI itself.
type PackageIndex struct {
	Dir  string
	Root string // http://127.0.0.1:PORT: other locations (extra indexes, find-links pages) live below it
	URL  string // Root + "/simple"
	Lock *PyPILock
}

func (b *Bed) startPackageIndex() (*PackageIndex, error) {
	dir := filepath.Join(b.tmp, "pyindex")
	if err := os.MkdirAll(filepath.Join(dir, "simple"), 0o755); err != nil {
		return nil, err
	}
	// A fixed address: the index URL reaches pip steps (PIP_INDEX_URL), so it is part of
	// their cache keys; the same URL in every run lets a warm run re-use their results.
	addr, err := b.serveAt(IndexAddr, http.FileServer(http.Dir(dir)))
	if err != nil {
		return nil, err
	}
	idx := &PackageIndex{Dir: dir, Root: "http://" + addr, URL: "http://" + addr + "/simple"}
	if idx.Lock, err = ReadPyPILock(b.Repo); err != nil {
		return nil, err
	}
	for _, f := range idx.Lock.Files {
		src := filepath.Join(b.Cache, "pypi", f.Filename)
		if _, err := os.Stat(src); err != nil && b.scope == Quickstart {
			continue // hack/setup --quickstart fetched what the example needs
		} else if err != nil {
			return nil, fmt.Errorf("pypi.lock entry %s %s (%s) is not in %s: run hack/setup", f.Project, f.Version, f.Filename, filepath.Dir(src))
		}
		pdir := filepath.Join(dir, "simple", f.Project)
		if err := os.MkdirAll(pdir, 0o755); err != nil {
			return nil, err
		}
		if err := os.Symlink(src, filepath.Join(pdir, f.Filename)); err != nil {
			return nil, err
		}
	}
	return idx, nil
}

// IndexAddr is where the loopback package index listens when the port is free.
const IndexAddr = "127.0.0.1:38471"

// PrivateIndex serves the same packages as the index, to requests that carry HTTP basic
// auth with user and password only: a private index. It returns its simple-index URL.
func (b *Bed) PrivateIndex(user, password string) (string, error) {
	files := http.FileServer(http.Dir(b.Index.Dir))
	addr, err := b.serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="acai test bed"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		files.ServeHTTP(w, r)
	}))
	return "http://" + addr + "/simple", err
}

var normalizePattern = regexp.MustCompile(`[-_.]+`)

// Add publishes a distribution file for a project in the main index.
func (i *PackageIndex) Add(project, filename string, data []byte) error {
	return i.AddAt(filepath.Join("simple", strings.ToLower(normalizePattern.ReplaceAllString(project, "-"))), filename, data)
}

// AddAt puts a distribution file at Root/location/filename: another index
// ("extra/simple/NAME") or a flat find-links page ("flat").
func (i *PackageIndex) AddAt(location, filename string, data []byte) error {
	dir := filepath.Join(i.Dir, location)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, filename), data, 0o644)
}

// Wheel is a pure-Python wheel made by the test bed.
type Wheel struct {
	Name, Version  string
	Requires       []string          // Requires-Dist
	Files          map[string]string // path in site-packages → content
	ConsoleScripts map[string]string // script name → module:function
}

// Publish builds the wheel and adds it to the index.
func (i *PackageIndex) Publish(w Wheel) error {
	dt, err := w.Build()
	if err != nil {
		return err
	}
	return i.Add(w.Name, w.Filename(), dt)
}

// PublishAt builds the wheel and puts it at Root/location.
func (i *PackageIndex) PublishAt(location string, w Wheel) error {
	dt, err := w.Build()
	if err != nil {
		return err
	}
	return i.AddAt(location, w.Filename(), dt)
}

func (w Wheel) distName() string { return normalizePattern.ReplaceAllString(w.Name, "_") }

// Filename is the wheel's file name.
func (w Wheel) Filename() string {
	return fmt.Sprintf("%s-%s-py3-none-any.whl", w.distName(), w.Version)
}

// Build makes the wheel: the files, METADATA, WHEEL, entry_points.txt and RECORD.
func (w Wheel) Build() ([]byte, error) {
	info := fmt.Sprintf("%s-%s.dist-info/", w.distName(), w.Version)
	files := map[string]string{}
	for k, v := range w.Files {
		files[k] = v
	}
	meta := fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\n", w.Name, w.Version)
	for _, r := range w.Requires {
		meta += "Requires-Dist: " + r + "\n"
	}
	files[info+"METADATA"] = meta
	files[info+"WHEEL"] = "Wheel-Version: 1.0\nGenerator: acai-testbed\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
	if len(w.ConsoleScripts) > 0 {
		ep := "[console_scripts]\n"
		for _, k := range slices.Sorted(maps.Keys(w.ConsoleScripts)) {
			ep += k + " = " + w.ConsoleScripts[k] + "\n"
		}
		files[info+"entry_points.txt"] = ep
	}
	names := make([]string, 0, len(files))
	for k := range files {
		names = append(names, k)
	}
	sort.Strings(names)
	var record strings.Builder
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		f, err := zw.Create(n)
		if err != nil {
			return nil, err
		}
		f.Write([]byte(files[n]))
		sum := sha256.Sum256([]byte(files[n]))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", n, base64.RawURLEncoding.EncodeToString(sum[:]), len(files[n]))
	}
	record.WriteString(info + "RECORD,,\n")
	f, err := zw.Create(info + "RECORD")
	if err != nil {
		return nil, err
	}
	f.Write([]byte(record.String()))
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Sdist is a source distribution made by the test bed (built by setuptools in the
// builder, so it can carry a C extension).
type Sdist struct {
	Name, Version string
	Files         map[string]string // setup.py, pyproject.toml, sources...
}

// Publish packs the sdist as NAME-VERSION.tar.gz and adds it to the index.
func (i *PackageIndex) PublishSdist(s Sdist) error {
	base := fmt.Sprintf("%s-%s", normalizePattern.ReplaceAllString(s.Name, "_"), s.Version)
	files := map[string]string{"PKG-INFO": fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\n", s.Name, s.Version)}
	for k, v := range s.Files {
		files[k] = v
	}
	var buf bytes.Buffer
	gw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gw)
	for _, n := range slices.Sorted(maps.Keys(files)) {
		if err := tw.WriteHeader(&tar.Header{Name: base + "/" + n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		tw.Write([]byte(files[n]))
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := gw.Close(); err != nil {
		return err
	}
	return i.Add(s.Name, base+".tar.gz", buf.Bytes())
}
