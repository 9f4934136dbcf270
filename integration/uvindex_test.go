package integration

import (
	"fmt"
	"strings"
	"testing"

	"github.com/acai-build/acai/spec"
)

// A company network mirrors docker.io and PyPI and nothing else: acai's uv comes from the
// build's Python index (here the loopback index, the only one the test bed has), as the
// pinned, hash-checked wheel. No step loads uv's image; the fetch is one step of its own,
// cached on a rebuild. [build].uv_image selects the image instead.
func TestUVComesFromThePythonIndex(t *testing.T) {
	t.Parallel()
	const acaifile = "packages = [\"cowsay==6.1\"]\nentrypoint = [\"cowsay\", \"-t\", \"uv from the index\"]\n"
	o := standinBuild(t, project(t, bed.WithSyntax(acaifile), nil))
	res := mustBuild(t, bed.BuildWithBuildctl, o)
	fetch := "[deps] uv " + spec.UVVersion + " from the Python index (pip download uv==" + spec.UVVersion + ", hash-checked)"
	wantContains(t, "progress", res.Log, fetch, "[deps] uv pip install cowsay==6.1")
	if strings.Contains(res.Log, "ghcr.io") || strings.Contains(res.Log, bed.UVStandin) {
		t.Errorf("the build loaded uv's image:\n%s", res.Log)
	}
	wantContains(t, "output", run(t, res.Image), "| uv from the index |")
	for _, absent := range []string{"/acai", "/opt/venv/bin/uv", "/usr/local/bin/uv"} {
		if res.Image.Exists(absent) {
			t.Errorf("%s is in the image: uv reaches no layer", absent)
		}
	}

	again := mustBuild(t, bed.BuildWithBuildctl, o)
	if step, ok := again.Step(fetch); !ok || !step.Cached {
		t.Errorf("a rebuild fetched uv again (%+v, found %v):\n%s", step, ok, again.Log)
	}

	withImage := standinBuild(t, project(t, bed.WithSyntax(acaifile+fmt.Sprintf("[build]\nuv_image = %q\n", bed.UVStandin)), nil))
	fromImage := mustBuild(t, bed.BuildWithBuildctl, withImage)
	wantContains(t, "progress with [build].uv_image", fromImage.Log, "[deps] FROM "+bed.UVStandin, "[deps] uv pip install cowsay==6.1")
	if strings.Contains(fromImage.Log, "from the Python index") {
		t.Errorf("[build].uv_image set, and uv was fetched from the index:\n%s", fromImage.Log)
	}
	wantContains(t, "output with [build].uv_image", run(t, fromImage.Image), "| uv from the index |")
}

// An index the build cannot use fails it with one line that names the index (without
// its credentials) and the cause, after pip's own messages, and no script text in the
// error. The index here is a loopback port nobody listens on.
func TestUnreachableIndexNamesTheCause(t *testing.T) {
	t.Parallel()
	o := standinBuild(t, project(t, bed.WithSyntax("packages = [\"cowsay==6.1\"]\n"), nil))
	o.Args = map[string]string{"PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_RETRIES": "0"}
	res, err := bed.BuildWithBuildctl(testContext(t), o)
	if err == nil {
		t.Fatal("the build succeeded with an index nobody serves")
	}
	out := err.Error()
	if res != nil {
		out = res.Log + out
	}
	wantContains(t, "build output", out, "acai: fetching uv from the Python index http://127.0.0.1:9/simple failed: it refused the connection")
	if strings.Contains(out, "urllib") || strings.Contains(out, "import os") {
		t.Errorf("the error carries script text:\n%s", out)
	}
}
