package frontend

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acai-build/acai/spec"
)

// slim.py as an install step runs it, on a site-packages that an "install" (a shell
// command) fills: what goes, what stays and why. It needs the host's python3, and gcc
// for a shared object with symbols and debug information.
func TestSlimRemovesWhatNoProgramLoadsAtRunTime(t *testing.T) {
	for _, tool := range []string{"python3", "gcc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed to run slim.py here: %v", tool, err)
		}
	}
	a, err := spec.Parse("Acaifile", []byte("packages = [\"x==1\"]\n[runtime]\nkeep = [\"mine/tests\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	venv := filepath.Join(root, "venv")
	site := filepath.Join(venv, "lib", "python3.12", "site-packages")
	scripts := filepath.Join(root, "slim")
	for _, f := range slimmingFor(a).mount().Files.Generated {
		write(t, filepath.Join(scripts, f.Path), string(f.Data))
	}
	// Installed before the step: not the step's to slim.
	write(t, filepath.Join(site, "earlier/tests/test_a.py"), "")
	installed := map[string]string{
		"pkg/__init__.py":                    "from .core import *\n",
		"pkg/core.py":                        "X = 1\n",
		"pkg/tests/test_core.py":             "import pkg.tests\n",
		"pkg/tests/__pycache__/t.pyc":        "bytecode",
		"pkg/sub/test/__init__.py":           "",
		"pkg/conftest.py":                    "from pkg.sub.test import fixtures\n",
		"pkg/include/pkg.h":                  "int x;\n",
		"pkg/src/core.cc":                    "int y;\n",
		"pkg/_fast.pyx":                      "def f(): pass\n",
		"pkg/_fast.pxd":                      "",
		"pkg/core.pyi":                       "X: int\n",
		"pkg/lib/libpkg.a":                   "!<arch>\n",
		"pkg-1.0.dist-info/RECORD":           "pkg/core.py,,\n",
		"pkg-1.0.dist-info/tests/x":          "metadata stays whole",
		"webfw/__init__.py":                  "",
		"webfw/runner.py":                    "from webfw.test.signals import setting_changed\n",
		"webfw/test/signals.py":              "setting_changed = 1\n",
		"rel/__init__.py":                    "from . import tests\n",
		"rel/tests/__init__.py":              "",
		"mine/tests/data.json":               "{}",
		"Cython/Includes/libc/stdio.pxd":     "",
		"tests/__init__.py":                  "",
		"numpy_like/testing/__init__.py":     "",
		"numpy_like/_core/tests/test_a.py":   "",
		"numpy_like/_core/include/numpy.h":   "",
		"numpy_like/_core/_multiarray_umath": "not an extension: no .so suffix",
	}
	var install strings.Builder
	for p, data := range installed {
		install.WriteString("mkdir -p " + filepath.Dir(filepath.Join(site, p)) + " && printf %s '" + data + "' > " + filepath.Join(site, p) + " && ")
	}
	so := filepath.Join(site, "pkg", "_speed.cpython-312-x86_64-linux-gnu.so")
	install.WriteString("echo 'int speed(void) { return 42; }' > " + root + "/speed.c && gcc -g -shared -fPIC -o " + so + " " + root + "/speed.c")
	slim := exec.Command("python3", append([]string{filepath.Join(scripts, "slim.py"), venv, filepath.Join(scripts, "keep.txt"), "--"}, "sh", "-c", install.String())...)
	out, err := slim.CombinedOutput()
	if err != nil {
		t.Fatalf("slim.py: %v\n%s", err, out)
	}
	t.Logf("%s", out)
	for _, gone := range []string{"pkg/tests", "pkg/sub/test", "pkg/include/pkg.h", "pkg/src/core.cc", "pkg/_fast.pyx", "pkg/_fast.pxd", "pkg/core.pyi", "pkg/lib/libpkg.a", "tests", "numpy_like/_core/tests", "numpy_like/_core/include/numpy.h"} {
		if _, err := os.Stat(filepath.Join(site, gone)); err == nil {
			t.Errorf("%s is still there", gone)
		}
	}
	for _, kept := range []string{"earlier/tests/test_a.py", "pkg/core.py", "pkg/conftest.py", "pkg-1.0.dist-info/tests/x", "webfw/test/signals.py", "rel/tests/__init__.py", "mine/tests/data.json", "Cython/Includes/libc/stdio.pxd", "numpy_like/testing/__init__.py", "numpy_like/_core/_multiarray_umath"} {
		if _, err := os.Stat(filepath.Join(site, kept)); err != nil {
			t.Errorf("%s was removed: %v", kept, err)
		}
	}
	for _, why := range []string{"kept webfw/test (imported by webfw/runner.py)", "kept rel/tests (imported by rel/__init__.py)", "kept 1 paths by keep glob mine/tests", "kept 1 paths by keep glob Cython", "removed: tests", "(1 shared objects stripped)"} {
		wantContainsString(t, "slim.py's report", string(out), why)
	}
	f, err := elf.Open(so)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Section(".symtab") != nil || f.Section(".debug_info") != nil {
		t.Errorf("%s keeps its symbol table or debug information", so)
	}
	if syms, err := f.DynamicSymbols(); err != nil || !hasSymbol(syms, "speed") {
		t.Errorf("the loader's symbol speed is gone from the stripped object (%v)", err)
	}
	// The stripped object still loads, and its function runs.
	loaded, err := exec.Command("python3", "-c", "import ctypes, sys; print(ctypes.CDLL(sys.argv[1]).speed())", so).CombinedOutput()
	if err != nil || strings.TrimSpace(string(loaded)) != "42" {
		t.Errorf("the stripped object does not load: %v\n%s", err, loaded)
	}
}

// A failed install is slimmed not at all, and fails the step with its own exit code.
func TestSlimLeavesAFailedInstallAlone(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "slim.py"), slimScript)
	write(t, filepath.Join(root, "keep.txt"), "")
	write(t, filepath.Join(root, "venv/pkg/tests/t.py"), "")
	cmd := exec.Command("python3", filepath.Join(root, "slim.py"), filepath.Join(root, "venv"), filepath.Join(root, "keep.txt"), "--", "sh", "-c", "mkdir "+root+"/venv/new && mkdir "+root+"/venv/new/tests && exit 3")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
		t.Fatalf("exit %v, want 3\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(root, "venv/new/tests")); err != nil {
		t.Errorf("a failed install was slimmed: %v", err)
	}
}

func hasSymbol(syms []elf.Symbol, name string) bool {
	for _, s := range syms {
		if s.Name == name {
			return true
		}
	}
	return false
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
