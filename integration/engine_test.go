package integration

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/acai-build/acai/integration/testbed"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// What the README tells users, run as they run it: `docker buildx build -f Acaifile -t
// NAME .` on a Docker Engine 29 (dockerd, containerd and buildx built from their Go
// modules), then `docker run`; `docker build` with and without buildx; the Lambda example
// invoked through a Runtime API on the Engine's bridge; the web example
// serving; `--check`; `--call plan`; two platforms pushed to a registry; and the legacy
// builder's refusal. On both image stores: containerd's (the
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

			built := must(dir, args("buildx", "build", "--progress", "plain", "-f", "Acaifile", "-t", "hello")...)
			wantContains(t, "docker run hello", must(dir, "run", "--rm", "hello"), "Hello from acai!", "from /opt/venv")
			// One layer per package where the store merges layers; the classic store's
			// BuildKit has no MergeOp or DiffOp: one layer, saying why.
			if store == "containerd" {
				wantContains(t, "progress on the containerd store", built, "[deps] cowsay 6.1")
				wantContains(t, "docker history", must(dir, "history", "--no-trunc", "--format", "{{.CreatedBy}}", "hello"), "[deps] cowsay 6.1")
			} else {
				wantContains(t, "progress on the classic store", built, "[runner] copy installed packages /opt/venv (one layer: this BuildKit cannot merge layers")
			}

			// `docker build`: the CLI hands it to buildx when buildx is installed; without
			// buildx (the docker CLI 28 alone) it falls back to the legacy builder, which
			// runs no frontend, and says to install buildx.
			must(dir, args("build", "-f", "Acaifile", "-t", "hello-build")...)
			wantContains(t, "docker run hello-build", must(dir, "run", "--rm", "hello-build"), "Hello from acai!")
			if out, err := docker(dir, []string{"DOCKER_CONFIG=" + t.TempDir()}, args("build", "-f", "Acaifile")...); err == nil {
				t.Errorf("docker build without buildx built:\n%s", out)
			} else {
				wantContains(t, "docker build without buildx", out, "Install the buildx component", "unknown instruction: python")
			}

			lambdaOnEngine(t, e, must, args)

			// The web example as its README runs it, detached; queried from inside the
			// container (the namespace has no route to the host's test process).
			web := example(t, "web")
			must(web, args("buildx", "build", "-f", "Acaifile", "-t", "web")...)
			must(web, "run", "-d", "--name", "web", "web")
			reply := must(web, "exec", "web", "sh", "-c", `for i in $(seq 50); do
  python -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8080/health').read().decode())" 2>/dev/null && exit 0
  sleep 0.2
done; exit 1`)
			wantContains(t, "the web example's reply", reply, `"path": "/health"`, `"uid": 10001`)

			if store == "containerd" {
				// An index whose host name does not resolve: the lookup goes to the machine's
				// resolver, which the namespace cannot reach, and fails there.
				out, err := docker(dir, nil, "buildx", "build", "-f", "Acaifile", "--build-arg", "PIP_INDEX_URL=http://acai-mirror.invalid/simple",
					"--build-arg", "PIP_TRUSTED_HOST=acai-mirror.invalid", "--build-arg", "PIP_RETRIES=0", ".")
				if err == nil {
					t.Fatalf("a build with an index that does not resolve succeeded:\n%s", out)
				}
				wantContains(t, "build with an unresolvable index", out, "acai: fetching uv from the Python index http://acai-mirror.invalid/simple failed: its host name does not resolve")
			}

			wantContains(t, "--check", must(dir, args("buildx", "build", "--check", "-f", "Acaifile")...), "Check complete")
			if plan := must(dir, args("buildx", "build", "--call", "plan", "-f", "Acaifile")...); !regexp.MustCompile(`cowsay\s+6\.1\s+wheel py3-none-any`).MatchString(plan) {
				t.Errorf("--call plan does not show cowsay 6.1 as a wheel:\n%s", plan)
			} else if want := map[string]string{"containerd": "dependency layers: one per package: 2 layers", "classic": "dependency layers: one layer (this BuildKit cannot merge layers"}[store]; !strings.Contains(plan, want) {
				t.Errorf("--call plan on the %s store does not say %q:\n%s", store, want, plan)
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

// The README's main command with a Docker Engine up: hack/quickstart's Docker branch
// compiles the frontend image from Dockerfile.frontend, builds the hello example with it
// (BUILDKIT_SYNTAX) and runs it. As on a company network, the shell's GOPROXY and
// PIP_INDEX_URL are the only ways out: the Go module proxy is this machine's module cache
// served on the Engine's bridge, the index the test bed's. Stand-ins: golang:1.26-alpine
// is the runner stand-in with this machine's Go (Bed.GolangStandinAs), python:3.12-alpine3.24
// the runner stand-in.
func TestQuickstartOnDockerEngine(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	if _, err := bed.GolangStandinAs(ctx, "library/golang:1.26-alpine"); err != nil {
		t.Fatal(err)
	}
	e, err := bed.StartEngine(ctx, "containerd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	modcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	goproxy, err := e.ServeOnBridge(http.FileServer(http.Dir(filepath.Join(strings.TrimSpace(string(modcache)), "cache", "download"))))
	if err != nil {
		t.Fatal(err)
	}
	host := strings.Split(strings.TrimPrefix(e.IndexURL, "http://"), ":")[0]
	cmd := exec.CommandContext(ctx, "bash", "hack/quickstart")
	cmd.Dir = bed.Repo
	cmd.Env = append(os.Environ(), e.Env()...)
	cmd.Env = append(cmd.Env, "GOPROXY="+goproxy, "PIP_INDEX_URL="+e.IndexURL, "PIP_TRUSTED_HOST="+host)
	out, err := cmd.CombinedOutput()
	t.Logf("bash hack/quickstart:\n%s", tailLines(string(out), 40))
	if err != nil {
		t.Fatalf("bash hack/quickstart: %v\n%s", err, e.Logs())
	}
	// The example ran through the frontend image just built (the mirror has no :local).
	wantContains(t, "bash hack/quickstart", string(out), "==> Docker engine with buildx found",
		"resolve image config for docker-image://docker.io/acai/frontend:local", "Hello from acai!", "from /opt/venv")
}

// lambdaOnEngine builds the Lambda example as its README says and invokes its handler:
// `docker run` with AWS_LAMBDA_RUNTIME_API naming a Runtime API the test serves on the
// Engine's bridge (inside the test's network namespace).
func lambdaOnEngine(t *testing.T, e *testbed.Engine, must func(string, ...string) string, args func(...string) []string) {
	t.Helper()
	dir := example(t, "lambda")
	must(dir, args("buildx", "build", "-f", "Acaifile", "-t", "lambda-fn")...)
	api, h := testbed.NewLambdaRuntimeAPI()
	url, err := e.ServeOnBridge(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := api.Invoke("req-1", map[string]any{"records": []map[string]any{{"city": "Lyon", "sales": 2}, {"city": "Lyon", "sales": 3}}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(testContext(t), 2*time.Minute)
	defer cancel()
	out := make(chan string, 1)
	go func() {
		o, _ := e.Docker(ctx, dir, nil, "run", "--rm", "-e", "AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(url, "http://"), "lambda-fn")
		out <- o
	}()
	result, err := api.Result(ctx)
	api.Close() // the runtime's next poll ends; the container stops
	cancel()
	log := <-out
	if err != nil {
		t.Fatalf("no result from the Lambda function: %v\n%s", err, log)
	}
	if result.Kind != "response" {
		t.Fatalf("the function posted %s: %s\n%s", result.Kind, result.Body, log)
	}
	wantContains(t, "the handler's response on the Engine", string(result.Body), `"rows": 2`, `"sales_by_city": {"Lyon": 5}`)
}
