package spec

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// An Acaifile that breaks every rule yields one finding per rule, each pointing at the
// line that broke it.
func TestLintEveryRule(t *testing.T) {
	// testdata/every-rule is also what the integration test gives --check.
	src, err := os.ReadFile("testdata/every-rule/Acaifile")
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := os.ReadFile("testdata/every-rule/requirements.txt")
	if err != nil {
		t.Fatal(err)
	}
	a, err := Parse("Acaifile", src)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"requirements.txt": reqs}
	findings := Lint(a, files, time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))
	want := []struct {
		rule string
		line int
		msg  string
	}{
		{"UnpinnedRequirement", 4, `"requests" (packages) does not pin`},
		{"UnpinnedRequirement", 3, `"pandas>=2" (requirements.txt:3)`},
		{"DevPackageAtRuntime", 5, `"gcc" is a build-time package`},
		{"DevPackageAtRuntime", 5, `"postgresql-dev"`},
		{"RunsAsRoot", 6, "runs as root"},
		{"EndOfLifeBase", 2, "Alpine 3.18 reached its end of life on 2025-05-09"},
		{"DuplicatePackage", 4, `"Requests==2.32.3" (packages) is already required by "requests"`},
		{"DuplicatePackage", 5, `apk package "libstdc++" is listed twice`},
		{"NoDepsUnpinned", 8, `no_deps = true but "requests"`},
		{"NoDepsUnpinned", 8, `"pandas>=2"`},
		{"MissingRequirementFile", 3, `requirements.txt:4: "other.txt" names other.txt, which is not in the build context`},
		{"MissingRequirementFile", 3, `"missing.txt" is not in the build context`},
	}
	for _, f := range findings {
		if strings.Contains(f.Message, `"pandas>=2" (requirements.txt:3)`) && f.Rule == RuleUnpinnedRequirement && (f.File != "requirements.txt" || f.Range.Start.Line != 3) {
			t.Errorf("the unpinned line of requirements.txt is located at %s:%d, want requirements.txt:3", f.File, f.Range.Start.Line)
		}
	}
	if len(findings) != len(want) {
		for _, f := range findings {
			t.Logf("%s %d: %s", f.Rule.Name, f.Range.Start.Line, f.Message)
		}
		t.Fatalf("%d findings, want %d", len(findings), len(want))
	}
	for i, w := range want {
		f := findings[i]
		if f.Rule.Name != w.rule || f.Range.Start.Line != w.line || !strings.Contains(f.Message, w.msg) {
			t.Errorf("finding %d = %s line %d %q, want %s line %d containing %q", i, f.Rule.Name, f.Range.Start.Line, f.Message, w.rule, w.line, w.msg)
		}
	}
}

func TestLintCleanAcaifile(t *testing.T) {
	a, err := Parse("Acaifile", []byte("python = \"3.13\"\nrequirements = \"r.txt\"\npackages = [\"a==1\", \"b @ https://x/b.whl\"]\napk = [\"libstdc++\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f := Lint(a, map[string][]byte{"r.txt": []byte("c==1\n")}, time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)); len(f) != 0 {
		t.Fatalf("findings on a clean Acaifile: %+v", f)
	}
}

// docs/rules.md documents every rule under its name.
// Every rule has its page (Rule.Page, which --check links) with a bad and a good
// Acaifile; where the linter needs nothing but the Acaifile, the bad one triggers the rule
// and the good one does not.
func TestEveryRuleIsDocumented(t *testing.T) {
	byAcaifileAlone := map[string]bool{"UnpinnedRequirement": true, "DevPackageAtRuntime": true, "RunsAsRoot": true,
		"EndOfLifeBase": true, "UnlistedBase": true, "DuplicatePackage": true, "NoDepsUnpinned": true}
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	for _, r := range Rules {
		page, err := os.ReadFile("../" + r.Page())
		if err != nil {
			t.Errorf("%s has no page: %v", r.Name, err)
			continue
		}
		examples := regexp.MustCompile("(?s)## (Bad|Good)\n\n```toml\n(.*?)```").FindAllStringSubmatch(string(page), -1)
		if !strings.HasPrefix(string(page), "# "+r.Name+"\n") || len(examples) != 2 || examples[0][1] != "Bad" {
			t.Errorf("%s: the page needs its title, then a Bad and a Good Acaifile", r.Page())
			continue
		}
		if !byAcaifileAlone[r.Name] {
			continue
		}
		for i, ex := range examples {
			a, err := Parse("Acaifile", []byte(ex[2]))
			if err != nil {
				t.Errorf("%s: the %s example does not parse: %v", r.Page(), ex[1], err)
				continue
			}
			found := slices.ContainsFunc(Lint(a, nil, now), func(f Finding) bool { return f.Rule == r })
			if found != (i == 0) {
				t.Errorf("%s: the %s example triggers %s: %v", r.Page(), ex[1], r.Name, found)
			}
		}
	}
}

func TestCredentialBuildArgs(t *testing.T) {
	args := map[string]string{
		"PIP_INDEX_URL":       "https://ci:t0ken@pypi.example.com/simple",
		"PIP_EXTRA_INDEX_URL": "https://a.example.com/simple https://u:p@b.example.com/simple",
		"UV_INDEX_PASSWORD":   "x",
		"PIP_TRUSTED_HOST":    "pypi.example.com",
		"HTTP_PROXY":          "http://u:p@proxy:3128",
	}
	var got []string
	for _, f := range BuildArgFindings(args) {
		got = append(got, f.Key)
		if strings.Contains(f.Message, "t0ken") {
			t.Errorf("the finding repeats the credential: %s", f.Message)
		}
	}
	if strings.Join(got, " ") != "build-arg:PIP_EXTRA_INDEX_URL build-arg:PIP_INDEX_URL build-arg:UV_INDEX_PASSWORD" {
		t.Errorf("findings for %v", got)
	}
}

func TestLargeExcludedDirectory(t *testing.T) {
	got := ExcludedByName([]string{"**/.git", "**/*.pyc", "dist", "tools/env", "!dist", "**/.venv"})
	if fmt.Sprint(got) != "[**/.git dist tools/env **/.venv]" {
		t.Errorf("ExcludedByName = %v", got)
	}
	fs := ExcludedDirectoryFindings(map[string]int64{".venv": 300 << 20, ".git": LargeExcludedThreshold - 1, "dist": LargeExcludedThreshold})
	var msgs []string
	for _, f := range fs {
		msgs = append(msgs, f.Message[:strings.Index(f.Message, " and")])
	}
	if fmt.Sprint(msgs) != "[.venv holds 300.0 MB dist holds 10.0 MB]" {
		t.Errorf("findings = %q", msgs)
	}
}
