package testbed

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Cowsay is a stand-in for PyPI's cowsay 6.1, made by the test bed because PyPI is
// unreachable here: the same module name, get_output_string(char, text) function and
// `cowsay -t TEXT` console script the examples use, in a few lines.
var Cowsay = Wheel{
	Name: "cowsay", Version: "6.1",
	Files: map[string]string{
		"cowsay/__init__.py": `"""acai test bed stand-in for cowsay 6.1 (not the real package)."""
import argparse

def get_output_string(char="cow", text=""):
    bar = "-" * (len(text) + 2)
    return "\n".join([" " + "_" * (len(text) + 2), "< " + text + " >", " " + bar,
                      "        \\   ^__^", "         \\  (oo)\\_______",
                      "            (__)\\       )\\/\\", "                ||----w |",
                      "                ||     ||"])

def main():
    p = argparse.ArgumentParser(prog="cowsay")
    p.add_argument("-t", "--text", default="")
    p.add_argument("-c", "--character", default="cow")
    a = p.parse_args()
    print(get_output_string(a.character, a.text))
`,
	},
	ConsoleScripts: map[string]string{"cowsay": "cowsay:main"},
}

// CopyDir copies an example (or any directory) into dst, so a test can edit its copy.
func CopyDir(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		dt, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, dt, 0o644)
	})
}

// WriteFiles writes files (relative path → content) under dir.
func WriteFiles(dir string, files map[string]string) error {
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// WithSyntax replaces an Acaifile's `# syntax=` line so that it names the frontend
// image in the loopback registry, the only registry here.
func (b *Bed) WithSyntax(acaifile string) string {
	lines := strings.SplitN(acaifile, "\n", 2)
	rest := acaifile
	if strings.HasPrefix(lines[0], "# syntax=") && len(lines) == 2 {
		rest = lines[1]
	}
	return "# syntax=" + b.Frontend + "\n" + rest
}

// Yamlver is an sdist with a C extension that links the system library libyaml
// (libyaml-0.so.2): pip compiles it in the builder, and the runner needs the library.
var Yamlver = Sdist{
	Name: "yamlver", Version: "1.0",
	Files: map[string]string{
		"pyproject.toml": "[build-system]\nrequires = [\"setuptools\", \"wheel\"]\nbuild-backend = \"setuptools.build_meta\"\n",
		"setup.py": `from setuptools import setup, Extension
setup(name="yamlver", version="1.0",
      ext_modules=[Extension("yamlver", ["yamlver.c"], libraries=["yaml"])])
`,
		"yamlver.c": `#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <yaml.h>

static PyObject *version(PyObject *self, PyObject *args) {
    return PyUnicode_FromString(yaml_get_version_string());
}
static PyMethodDef methods[] = {{"version", version, METH_NOARGS, "libyaml's version"}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "yamlver", NULL, -1, methods};
PyMODINIT_FUNC PyInit_yamlver(void) { return PyModule_Create(&module); }
`,
	},
}

// Module is a one-module pure-Python wheel whose module prints its name when imported
// as __main__ and has NAME = name: enough to prove a package was installed from where
// a test put it.
func Module(name, version string, requires ...string) Wheel {
	return Wheel{
		Name: name, Version: version, Requires: requires,
		Files: map[string]string{name + ".py": "NAME = " + fmt.Sprintf("%q", name) + "\nif __name__ == '__main__':\n    print(NAME)\n"},
	}
}

// AWSLambdaRIC is a stand-in for PyPI's awslambdaric (the AWS Lambda runtime interface
// client), not the real one: `python -m awslambdaric module.handler` imports the
// handler as the real client does, calls it once with an empty event and prints the
// result, instead of polling the Lambda runtime API, which does not exist here.
var AWSLambdaRIC = Wheel{
	Name: "awslambdaric", Version: "3.0.0",
	Files: map[string]string{
		"awslambdaric/__init__.py": "",
		"awslambdaric/__main__.py": `"""acai test bed stand-in for awslambdaric (not the real package)."""
import importlib, json, os, sys
module, _, func = sys.argv[1].rpartition(".")
handler = getattr(importlib.import_module(module), func)
print("stand-in runtime, task root", os.environ.get("LAMBDA_TASK_ROOT"), "cwd", os.getcwd())
print(json.dumps(handler({}, None)))
`,
	},
}
