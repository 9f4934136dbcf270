package frontend

import (
	"slices"
	"strings"
	"testing"

	"github.com/acai-build/acai/model"
	"github.com/acai-build/acai/spec"
	"github.com/moby/buildkit/frontend/dockerui"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// A cross build's installs are uv's, for the target's platform and Python, wheels only
// (the local project aside, which uv builds as a pure-Python wheel); a native build's are
// unchanged. Proven on BuildKit by integration/cross_test.go.
func TestCrossInstalls(t *testing.T) {
	a, err := spec.Parse("Acaifile", []byte("python = \"3.12\"\nrequirements = \"requirements.txt\"\n[build]\ninstaller = \"pip\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	amd64, arm64 := ocispecs.Platform{OS: "linux", Architecture: "amd64"}, ocispecs.Platform{OS: "linux", Architecture: "arm64"}
	bc := &dockerui.Client{Config: dockerui.Config{BuildPlatforms: []ocispecs.Platform{amd64}}}
	for _, tc := range []struct {
		platform ocispecs.Platform
		want     string
	}{
		{amd64, "python -m pip --python /opt/venv/bin/python install"},
		{ocispecs.Platform{OS: "linux", Architecture: "amd64", Variant: "v2"}, "python -m pip --python /opt/venv/bin/python install"},
		{arm64, "--python-platform aarch64-unknown-linux-musl --python-version 3.12 --only-binary :all:"},
	} {
		c := &converter{bc: bc, spec: a, platform: tc.platform}
		if err := c.setCross(stageRunner); err != nil {
			t.Fatal(err)
		}
		cmds := c.crossInstalls(depsCommands(c.installSpec(), c.project, nil))
		if len(cmds) != 1 {
			t.Fatalf("%d commands", len(cmds))
		}
		argv := strings.Join(cmds[0].argv(), " ")
		if !strings.Contains(argv, tc.want) {
			t.Errorf("%v: the install runs %q, want %q in it", tc.platform, argv, tc.want)
		}
		if cross := tc.platform.Architecture == "arm64"; cross != (c.host != nil) || cross && !slices.Contains(cmds[0].args, "--only-binary") {
			t.Errorf("%v: cross %v, host %v", tc.platform, cross, c.host != nil)
		}
		wantPlatform := model.OnTarget
		if tc.platform.Architecture == "arm64" {
			wantPlatform = model.OnBuild // the build platform's uv installs the target's wheels
		}
		wantEqual(t, "where the install runs", installSteps(cmds, nil)[0].Platform, wantPlatform)
	}
	c := &converter{bc: bc, spec: a, platform: arm64}
	if err := c.setCross(stageTest); err == nil || !strings.Contains(err.Error(), "cross = false") {
		t.Errorf("--target test of a cross platform: %v", err)
	}
}
