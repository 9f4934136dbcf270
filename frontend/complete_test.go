package frontend

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"

	"github.com/acai-build/acai/plan"
	"github.com/acai-build/acai/spec"
)

// A built wheel's Requires-Dist, markers and all, read from its METADATA; the description
// after the headers, and a METADATA elsewhere than the .dist-info, are not read.
func TestWheelRequires(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string]string{
		"awslambdaric/__init__.py":            "",
		"vendored/x.dist-info/METADATA":       "Requires-Dist: wrong\n",
		"awslambdaric-3.1.1.dist-info/RECORD": "",
		"awslambdaric-3.1.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: awslambdaric\nVersion: 3.1.1\n" +
			"Requires-Dist: simplejson>=3.18.4\nRequires-Dist: snapshot-restore-py>=1.0.0\nRequires-Dist: pytest; extra == \"dev\"\n\nRequires-Dist: in the description\n",
	} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	zw.Close()
	got, err := wheelRequires(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	wantEqualSlices(t, "Requires-Dist", got, []string{"simplejson>=3.18.4", "snapshot-restore-py>=1.0.0", `pytest; extra == "dev"`})
	if _, err := wheelRequires([]byte("not a zip")); err == nil {
		t.Error("a file that is no wheel gave no error")
	}
}

// The completing resolve reads the built wheels' metadata from the uv.toml beside the
// requirement files, may build (uv builds nothing the metadata covers) and, failing,
// leaves its marker rather than failing the build.
func TestCompletingResolve(t *testing.T) {
	a, p := requirementsOfAwslambdaricAndNumpy(t)
	cmd := depsCommands(a, Project{}, nil)[0]
	cmd.generated = withFile(cmd.generated, completionConfigFile, []byte("[[dependency-metadata]]\n"))
	r := completingCommand(cmd, p.Target).step(stageResolve, "resolve")
	script := r.Args[len(r.Args)-1]
	for _, want := range []string{"'pip' 'compile'", "'--python-platform' 'x86_64-unknown-linux-musl'", "touch /acai/resolved/incomplete"} {
		if !strings.Contains(script, want) {
			t.Errorf("the completing resolve's script lacks %q: %s", want, script)
		}
	}
	if strings.Contains(script, "--no-build") || strings.Contains(script, "--no-deps") {
		t.Errorf("the completing resolve builds nothing or names only: %s", script)
	}
	files := mountAt(t, r, requirementsMount).Files
	found := false
	for _, g := range files.Generated {
		found = found || g.Path == completionConfigFile
	}
	if !found {
		t.Errorf("no %s beside the requirement files: %+v", completionConfigFile, files.Generated)
	}
}

// --call plan builds no wheel: for a named-only plan that the build completes, it says
// the layering the build gets.
func TestNamedOnlyPlanSaysTheBuildCompletesIt(t *testing.T) {
	a, err := spec.ParseWithContext("Acaifile", []byte(`requirements = "requirements.txt"`), spec.ContextFiles{Read: true})
	if err != nil {
		t.Fatal(err)
	}
	_, p := requirementsOfAwslambdaricAndNumpy(t)
	p.NamedOnly = true
	conv := &converter{bc: mergingDaemon(t), spec: a, plan: p}
	cmds := depsCommands(a, Project{}, nil)
	wantEqual(t, "layering", conv.layering(cmds), "one per package once the source builds' wheels are built (the build resolves their dependencies with them; if that fails, one layer)")
	p.Cross = true // compiles nothing, so builds no wheel
	if got := conv.layering(cmds); !strings.HasPrefix(got, "one layer (") {
		t.Errorf("a cross build: %q", got)
	}
	p.Cross = false
	p.SourceBuilds = append(p.SourceBuilds, plan.SourceBuild{Package: plan.Package{Name: "mine", Source: plan.SourceDirectory}})
	if got := conv.layering(cmds); !strings.Contains(got, "resolved by the install") {
		t.Errorf("a plan with a local source build: %q", got)
	}
}
