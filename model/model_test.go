package model

import (
	"slices"
	"testing"
)

// A script of acai's round-trips through Script and SplitScript; other shell command
// lines (an installer's hint wrapper, whose $0 is a sentence) are not taken for one.
func TestScriptsAreToldFromOtherCommandLines(t *testing.T) {
	argv := Script("acai-user", "echo \"$1\"\n", "appuser", "10001")
	name, script, args, ok := SplitScript(argv)
	if !ok || name != "acai-user" || script != "echo \"$1\"\n" || !slices.Equal(args, []string{"appuser", "10001"}) {
		t.Errorf("SplitScript(%q) = %q, %q, %q, %v", argv, name, script, args, ok)
	}
	for _, other := range [][]string{
		{"/bin/sh", "-c", `"$@" || exit 1`, "acai: psycopg2 needs libpq-dev", "pip", "install"},
		{"/bin/sh", "-c", "exit 0", "sh"},
		{"python", "-m", "venv", "/opt/venv"},
		{"/bin/sh", "-c"},
	} {
		if _, _, _, ok := SplitScript(other); ok {
			t.Errorf("SplitScript(%q) took it for a script of acai's", other)
		}
	}
}

func TestProgressNames(t *testing.T) {
	if got := (Run{Stage: "deps", Name: "numpy 2.4.6"}).ProgressName(); got != "[deps] numpy 2.4.6" {
		t.Errorf("Run.ProgressName() = %q", got)
	}
	if got := (Copy{Stage: "runner", Name: "copy app (build context) to /app"}).ProgressName(); got != "[runner] copy app (build context) to /app" {
		t.Errorf("Copy.ProgressName() = %q", got)
	}
}
