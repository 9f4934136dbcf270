package integration

import (
	"debug/elf"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/acai-build/acai/integration/testbed"
)

// Slimming ([runtime] slim, on by default): simplejson's wheel carries its test suite
// and an extension module with a symbol table. The default image has neither, and its
// C speedups still load; keep keeps what it names (the kept tests pass in the image);
// slim = false ships the wheel's files as they are. The builder gets no package for it.
func TestSlimRemovesTestsAndSymbols(t *testing.T) {
	t.Parallel()
	const acaifile = "python = \"3.12\"\npackages = [\"simplejson==4.3.0\"]\n" +
		"entrypoint = [\"python\", \"-c\", \"import simplejson, simplejson._speedups; print(simplejson.dumps({'c': simplejson._import_c_make_encoder() is not None}))\"]\n"
	site := "/opt/venv/lib/python3.11/site-packages/" // the stand-in's Python is Debian's 3.11
	for _, c := range []struct {
		name, runtime string
		tests         bool // simplejson/tests is in the image
		symbols       bool // its extension module keeps its symbol table
	}{
		{"default", "", false, false},
		{"keep", "[runtime]\nkeep = [\"simplejson/tests\"]\n", true, false},
		{"slim = false", "[runtime]\nslim = false\n", true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := mustBuild(t, bed.BuildInProcess, standinBuild(t, project(t, acaifile+c.runtime, nil)))
			wantContains(t, "output", run(t, res.Image), `{"c": true}`)
			wantEqual(t, "simplejson/tests in the image", res.Exists(site+"simplejson/tests/__init__.py"), c.tests)
			so, _ := filepath.Glob(filepath.Join(res.Rootfs(), site, "simplejson/_speedups*.so"))
			if len(so) != 1 {
				t.Fatalf("simplejson's extension module: %v", so)
			}
			wantEqual(t, "a symbol table in "+filepath.Base(so[0]), hasSymtab(t, so[0]), c.symbols)
			wantNoBuilderPackages(t, res)
			if c.tests { // what keep kept works: simplejson's own tests pass in the image
				out := execIn(t, res.Image, "python", "-m", "unittest", "simplejson.tests.test_dump")
				wantContains(t, "kept tests", out, "OK")
			}
		})
	}
}

// The Lambda example (numpy, pandas, pyarrow) slimmed: no test suite, header, stub or
// static archive is left in /var/task, and no shared object has a symbol table, those
// that patchelf rewrote for auditwheel (numpy's OpenBLAS) included; numpy's linear
// algebra (OpenBLAS) and pyarrow's compute and Parquet still run. The bytes against
// slim = false are logged; TestLambdaExampleInvoked runs the handler on the slim image.
// Every Python file that slim = false (uv's own compile) gives bytecode has it in the slim
// image too (slim.py compiles after slimming).
func TestSlimLambdaExample(t *testing.T) {
	t.Parallel()
	slim := mustBuild(t, bed.BuildInProcess, standinBuild(t, example(t, "lambda")))
	out := execIn(t, slim.Image, "python", "-c", "import io, numpy, pyarrow as pa, pyarrow.compute as pc, pyarrow.parquet as pq\n"+
		"u, s, v = numpy.linalg.svd(numpy.arange(16.0).reshape(4, 4)); t = pa.table({'a': [1, 2, 3]}); b = io.BytesIO(); pq.write_table(t, b)\n"+
		"print('svd', round(float(s[0]), 3), 'sum', pc.sum(t['a']).as_py(), 'parquet', pq.read_table(io.BytesIO(b.getvalue())).num_rows)")
	wantContains(t, "numpy and pyarrow in the slim image", out, "svd 35.14 sum 6 parquet 3")
	full := example(t, "lambda")
	appendFile(t, full, "Acaifile", "slim = false\n") // under [runtime], the file's last table
	unslim := mustBuild(t, bed.BuildInProcess, standinBuild(t, full))
	for _, left := range unslimmed(t, slim.Image, "/var/task") {
		t.Errorf("slimming left %s", left)
	}
	if len(unslimmed(t, unslim.Image, "/var/task")) == 0 {
		t.Errorf("slim = false: nothing would slim; the check above cannot fail")
	}
	// Bytecode: slim.py compiles what stays (the installer compiles nothing there), so
	// every Python file that uv's own compile gives bytecode to (slim = false) has it.
	slimMissing, unslimMissing := uncompiled(t, slim.Image, "/var/task"), uncompiled(t, unslim.Image, "/var/task")
	t.Logf("Python files without bytecode: %d slim (%v), %d with slim = false", len(slimMissing), slimMissing, len(unslimMissing))
	if len(unslimMissing) > 10 {
		t.Errorf("slim = false: %d Python files without bytecode, uv's compile should leave only the app's: %v", len(unslimMissing), unslimMissing)
	}
	for _, f := range slimMissing {
		if !slices.Contains(unslimMissing, f) {
			t.Errorf("the slim image has no bytecode for %s", f)
		}
	}
	s, u := dirBytes(t, slim.Image, "/var/task"), dirBytes(t, unslim.Image, "/var/task")
	t.Logf("/var/task: %.1f MB slim, %.1f MB with slim = false (%.0f %%)", float64(s)/1e6, float64(u)/1e6, 100*float64(s)/float64(u))
	if s >= u {
		t.Errorf("the slim /var/task is %d bytes, not less than %d", s, u)
	}
}

// unslimmed lists what slimming removes that is still under deps in img: test suites,
// headers, C and Cython sources, stubs, static archives, shared objects with a symbol
// table.
func unslimmed(t *testing.T, img *testbed.Image, deps string) []string {
	t.Helper()
	root := filepath.Join(img.Rootfs(), deps)
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch name := d.Name(); {
		case d.IsDir() && strings.HasSuffix(name, ".dist-info"):
			return filepath.SkipDir
		case d.IsDir() && (name == "tests" || name == "test"):
			out = append(out, rel+"/")
			return filepath.SkipDir
		case d.Type().IsRegular() && slimmedSuffixes[filepath.Ext(name)]:
			out = append(out, rel)
		case d.Type().IsRegular() && (strings.HasSuffix(name, ".so") || strings.Contains(name, ".so.")) && hasSymtab(t, p):
			out = append(out, rel+" (symbols)")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// uncompiled lists the Python files under deps in img that have no bytecode beside them
// (__pycache__/NAME.cpython-*.pyc).
func uncompiled(t *testing.T, img *testbed.Image, deps string) []string {
	t.Helper()
	root := filepath.Join(img.Rootfs(), deps)
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || filepath.Ext(p) != ".py" {
			return err
		}
		pyc, _ := filepath.Glob(filepath.Join(filepath.Dir(p), "__pycache__", strings.TrimSuffix(d.Name(), ".py")+".cpython-*.pyc"))
		if len(pyc) == 0 {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// slimmedSuffixes are the files slimming removes from packages (README, "Slim images").
var slimmedSuffixes = map[string]bool{".h": true, ".hh": true, ".hpp": true, ".hxx": true, ".c": true, ".cc": true, ".cpp": true, ".cxx": true,
	".pyx": true, ".pxd": true, ".pxi": true, ".pyi": true, ".a": true}

func hasSymtab(t *testing.T, p string) bool {
	f, err := elf.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	return f.Section(".symtab") != nil
}

func dirBytes(t *testing.T, img *testbed.Image, dir string) int64 {
	var n int64
	err := filepath.WalkDir(filepath.Join(img.Rootfs(), dir), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			info, _ := d.Info()
			n += info.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
