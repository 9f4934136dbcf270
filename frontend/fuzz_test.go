package frontend

import (
	"context"
	"testing"

	"github.com/acai-build/acai/plan"
	"github.com/acai-build/acai/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// FuzzConvert turns every Acaifile that parses into its install steps' LLB (marshalled,
// not solved), its image config and its ejected Dockerfile: none of them may panic.
func FuzzConvert(f *testing.F) {
	for _, s := range []string{
		"requirements = \"r.txt\"\npackages = [\"x==1\"]\n[build]\nindex_url = \"https://i.example/simple\"\n",
		"lock = \"app/uv.lock\"\nstop_signal = \"INT\"\n[build]\nextras = [\"a\"]\ngroups = [\"g\"]\n[runtime]\nlayout = \"lambda\"\n",
		"lock = \"pylock.toml\"\n[healthcheck]\ncommand = \"none\"\n",
		"app = [\"src/\"]\n[healthcheck]\ncommand = [\"true\"]\ninterval = \"1s\"\n[test]\ncommand = \"pytest\"\npackages = [\"pytest==8\"]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := spec.Parse("Acaifile", data)
		if err != nil {
			return
		}
		ctx := context.Background()
		local := llb.Local("context")
		base := &stage{state: llb.Image("python:3.12-alpine3.24"), config: &dockerspec.DockerOCIImage{}}
		c := &converter{bc: &dockerui.Client{}, spec: a, context: &local, platform: ocispecs.Platform{OS: "linux", Architecture: "amd64"},
			uv: &stage{state: llb.Image(spec.UVImage)}, appExcludes: a.AppExcludes(nil, nil), project: Project{Installable: true},
			// a resolution with a wheel and a source build, which every install follows
			plan: plan.Make(plan.Target{Arch: "x86_64", Python: a.Python}, []plan.Package{
				{Name: "awslambdaric", Version: "3.1.1", Source: plan.SourceIndex},
				{Name: "numpy", Version: "2.4.6", Source: plan.SourceIndex, Wheel: "numpy-2.4.6-cp312-cp312-musllinux_1_2_x86_64.whl"}})}
		st := c.depsStage(base, depsCommands(a, c.project, c.appExcludes)).state
		st = c.install(st, installSteps([]command{testCommand(a)}, c.plan))
		if _, err := st.Marshal(ctx); err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if _, err := c.runnerConfig(base.config); err != nil {
			t.Fatalf("runner config: %v", err)
		}
		Eject(a)
	})
}
