package integration

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// What the README tells users, run as they run it: `docker buildx build -f Acaifile -t
// NAME .` on a Docker Engine 29 (dockerd, containerd and buildx built from their Go
// modules), then `docker run`; `--check`; `--call plan`; two platforms pushed to a
// registry; and the legacy builder's refusal. On both image stores: containerd's (the
// default since Engine 29) and the classic graphdriver store. The Engine runs in a
// network namespace of the test bed's own (testbed.Engine): its docker.io mirror holds
// the runner stand-in as python:3.12-alpine3.24 and acai as acai/frontend (the
// Acaifile's `# syntax=acai/frontend` line as it is), and its only Python index is the
// test bed's, given the way a company's mirror is: --build-arg PIP_INDEX_URL.
func TestDockerEngine(t *testing.T) {
	t.Parallel()
	for _, store := range []string{"containerd", "classic"} {
		t.Run(store, func(t *testing.T) {
			ctx := testContext(t)
			e, err := bed.StartEngine(ctx, store)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(e.Close)
			docker := func(dir string, env []string, args ...string) (string, error) {
				out, err := e.Docker(ctx, dir, env, args...)
				t.Logf("docker %s:\n%s", strings.Join(args, " "), tailLines(out, 40))
				return out, err
			}
			must := func(dir string, args ...string) string {
				t.Helper()
				out, err := docker(dir, nil, args...)
				if err != nil {
					t.Fatalf("docker %s: %v\n%s\n%s", strings.Join(args, " "), err, out, e.Logs())
				}
				return out
			}
			// A plain-HTTP mirror, as pip wants it named: trusted.
			host := strings.Split(strings.TrimPrefix(e.IndexURL, "http://"), ":")[0]
			args := func(more ...string) []string {
				return append(more, "--build-arg", "PIP_INDEX_URL="+e.IndexURL, "--build-arg", "PIP_TRUSTED_HOST="+host, ".")
			}
			dir := example(t, "hello")

			must(dir, args("buildx", "build", "-f", "Acaifile", "-t", "hello")...)
			wantContains(t, "docker run hello", must(dir, "run", "--rm", "hello"), "Hello from acai!", "from /opt/venv")

			wantContains(t, "--check", must(dir, args("buildx", "build", "--check", "-f", "Acaifile")...), "Check complete")
			if plan := must(dir, args("buildx", "build", "--call", "plan", "-f", "Acaifile")...); !regexp.MustCompile(`cowsay\s+6\.1\s+wheel py3-none-any`).MatchString(plan) {
				t.Errorf("--call plan does not show cowsay 6.1 as a wheel:\n%s", plan)
			}

			// Two platforms, pushed to the mirror's registry. The classic store's builder (the
			// docker driver) refuses several platforms, whatever the frontend: what users of
			// that store meet, and what the README says (a docker-container builder, or the
			// containerd store).
			ref := e.Registry + "/acai-test/hello:" + store
			twoPlatforms := args("buildx", "build", "-f", "Acaifile", "--platform", "linux/amd64,linux/arm64", "-t", ref, "--push")
			if store == "classic" {
				out, err := docker(dir, nil, twoPlatforms...)
				if err == nil {
					t.Fatalf("the classic store's docker driver built two platforms:\n%s", out)
				}
				wantContains(t, "two platforms on the classic store", out, "Multi-platform build is not supported for the docker driver")
				legacyBuilderRefuses(t, docker, dir)
				return
			}
			must(dir, twoPlatforms...)
			pushed, err := name.ParseReference(bed.Registry+"/acai-test/hello:"+store, name.Insecure)
			if err != nil {
				t.Fatal(err)
			}
			idx, err := remote.Index(pushed, remote.WithContext(ctx))
			if err != nil {
				t.Fatalf("the two-platform image is not in the registry: %v", err)
			}
			manifest, err := idx.IndexManifest()
			if err != nil {
				t.Fatal(err)
			}
			var archs []string
			for _, m := range manifest.Manifests {
				if m.Platform != nil && m.Platform.OS == "linux" {
					archs = append(archs, m.Platform.Architecture)
				}
			}
			wantEqual(t, "platforms pushed", strings.Join(archs, ","), "amd64,arm64")

			legacyBuilderRefuses(t, docker, dir)
		})
	}
}

// legacyBuilderRefuses: the legacy builder (DOCKER_BUILDKIT=0) runs no frontend, so it
// reads an Acaifile as a Dockerfile and stops at its first key.
func legacyBuilderRefuses(t *testing.T, docker func(string, []string, ...string) (string, error), dir string) {
	t.Helper()
	out, err := docker(dir, []string{"DOCKER_BUILDKIT=0"}, "build", "-f", "Acaifile", ".")
	if err == nil {
		t.Errorf("the legacy builder built an Acaifile:\n%s", out)
	}
	wantContains(t, "legacy builder", out, "unknown instruction: python")
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
