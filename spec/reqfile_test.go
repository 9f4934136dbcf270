package spec

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestRequirementRefs(t *testing.T) {
	refs, err := RequirementRefs("requirements/prod.txt", []byte(`# production
-r base.txt
--requirement=../shared/common.txt
-c constraints.txt
--constraint https://example.com/c.txt
--find-links ./wheels
-f https://example.com/wheels/
./libs/mypkg
.
dist/tool-1.0-py3-none-any.whl
mylib @ file:libs/mylib
requests==2.32.3 \
    --hash=sha256:70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6
git+https://github.com/org/repo@v1#egg=repo
numpy>=2 ; python_version >= "3.12"
`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range refs {
		got = append(got, fmt.Sprintf("%s %s:%d %s", r.Kind, r.File, r.Line, strings.Join(r.Paths, "|")))
	}
	want := []string{
		"requirements requirements/prod.txt:2 requirements/base.txt",
		"requirements requirements/prod.txt:3 shared/common.txt",
		"constraints requirements/prod.txt:4 requirements/constraints.txt",
		"find-links requirements/prod.txt:6 requirements/wheels|wheels",
		"path requirements/prod.txt:8 libs/mypkg",
		"path requirements/prod.txt:9 .",
		"path requirements/prod.txt:10 dist/tool-1.0-py3-none-any.whl",
		"path requirements/prod.txt:11 libs/mylib",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("refs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRequirementRefsErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"\n-r ../../outside.txt\n", "reqs.txt:2:1: \"../../outside.txt\" points outside the build context"},
		{"-e .\n", "reqs.txt:1:1: editable install \".\""},
		{"x==1\n  --editable=./libs/a\n", "reqs.txt:2:3: editable install \"./libs/a\""},
		{"pkg @ file:///home/me/pkg\n", "points outside the build context"},
		{"-r\n", "-r has no value"},
	} {
		_, err := RequirementRefs("reqs.txt", []byte(c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.src, err, c.want)
		}
	}
}

func FuzzRequirementRefs(f *testing.F) {
	f.Add("-r base.txt\n./libs/x\n-e .\nx @ file:y\n\\\n--find-links=w\n")
	f.Fuzz(func(t *testing.T, s string) {
		refs, _ := RequirementRefs("a/reqs.txt", []byte(s))
		for _, r := range refs {
			for _, p := range r.Paths {
				if p == ".." || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") {
					t.Fatalf("%q leaves the context: %+v", s, r)
				}
			}
		}
		requirementLines([]byte(s))
	})
}

func TestCredentialsInURLsAreErrors(t *testing.T) {
	_, err := RequirementRefs("reqs.txt", []byte("x==1\n--extra-index-url https://me:s3cret@pypi.example.com/simple\n"))
	if err == nil || !strings.Contains(err.Error(), "reqs.txt:2:1: --extra-index-url carries credentials") || !strings.Contains(err.Error(), "--secret id=netrc") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %v", err)
	}
	_, err = Parse("Acaifile", []byte("[build]\nextra_index_urls = [\"https://pypi.example.com/simple\", \"https://me:s3cret@pypi.example.com/simple\"]\n"))
	if err == nil || !strings.Contains(err.Error(), "Acaifile:2:56: `build.extra_index_urls[1]` carries credentials (me@pypi.example.com)") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %v", err)
	}
}

// A requirement file's pinned lines, as pip reads them (continuations joined, comments
// gone, extras and markers kept), by name; and its options that say where packages
// come from, whatever their spelling.
func TestPinnedLinesAndIndexOptions(t *testing.T) {
	file := []byte("# generated\n-i https://pypi.example/simple\n--extra-index-url=https://x.example/simple\n--no-index\n-f https://wheels.example/\n--trusted-host x.example\n" +
		"--only-binary :all:\n-r base.txt\nNumPy==2.4.6 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n    # via pandas\n" +
		"uvicorn[standard]==0.30.0 --hash=sha256:cc\nnumpy==2.5.5 ; python_version >= \"3.13\"\nrequests>=2\nlib @ https://files.example/lib.whl\n")
	got := PinnedLines(file)
	want := map[string][]string{
		"numpy":   {"NumPy==2.4.6 --hash=sha256:aa --hash=sha256:bb", `numpy==2.5.5 ; python_version >= "3.13"`},
		"uvicorn": {"uvicorn[standard]==0.30.0 --hash=sha256:cc"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PinnedLines = %q\nwant %q", got, want)
	}
	if v := PinnedVersion(got["numpy"][1]); v != "2.5.5" {
		t.Errorf("PinnedVersion = %q", v)
	}
	wantOptions := []string{"-i https://pypi.example/simple", "--extra-index-url=https://x.example/simple", "--no-index", "-f https://wheels.example/", "--trusted-host x.example"}
	if got := IndexOptions(file); !slices.Equal(got, wantOptions) {
		t.Errorf("IndexOptions = %q\nwant %q", got, wantOptions)
	}
}
