package integration

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acai-build/acai/integration/testbed"
)

// examples/web: an HTTP service, started as the image starts it, answers on its exposed
// port as the non-root user.
func TestWebExampleServesAsNonRoot(t *testing.T) {
	t.Parallel()
	res := mustBuild(t, bed.BuildInProcess, standinBuild(t, example(t, "web")))
	cfg := res.Config.Config
	if _, ok := cfg.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("ExposedPorts = %v, want 8080/tcp", cfg.ExposedPorts)
	}
	wantEqual(t, "PORT", res.Env()["PORT"], "8080")
	wantEqual(t, "title", cfg.Labels["org.opencontainers.image.title"], "acai web example")
	if res.Exists("/app/README.md") || res.Exists("/app/Acaifile") {
		t.Errorf("files outside `app` were copied")
	}
	// Start the entrypoint in the background and query it from inside the container.
	out := execIn(t, res.Image, "sh", "-c", `python -m web & for i in $(seq 50); do
  python -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8080/health').read().decode())" 2>/dev/null && exit 0
  sleep 0.2
done; exit 1`)
	var reply struct {
		Path string `json:"path"`
		UID  int    `json:"uid"`
	}
	// The server's access log (stderr, in the background) may come after the reply.
	var replyLine string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "{") {
			replyLine = line
		}
	}
	if err := json.Unmarshal([]byte(replyLine), &reply); err != nil {
		t.Fatalf("no JSON reply from the service: %v\n%s", err, out)
	}
	wantEqual(t, "path", reply.Path, "/health")
	wantEqual(t, "uid", reply.UID, 10001)
}

// examples/lambda, built from its own requirements (real awslambdaric, numpy, pandas,
// pyarrow from the pinned PyPI files), then invoked the way Lambda invokes it: the image's
// entrypoint runs the real runtime interface client against a Lambda Runtime API served
// by the test, which sends one event and reads the response the handler computed.
func TestLambdaExampleInvoked(t *testing.T) {
	t.Parallel()
	res := mustBuild(t, bed.BuildInProcess, standinBuild(t, example(t, "lambda")))
	cfg := res.Config.Config
	wantSlice(t, "Entrypoint", cfg.Entrypoint, []string{"python", "-m", "awslambdaric"})
	wantSlice(t, "Cmd", cfg.Cmd, []string{"app.handler"})
	wantEqual(t, "WorkingDir", cfg.WorkingDir, "/var/task")
	wantEqual(t, "LAMBDA_TASK_ROOT", res.Env()["LAMBDA_TASK_ROOT"], "/var/task")
	wantEqual(t, "PYTHONPATH", res.Env()["PYTHONPATH"], "/var/task")
	readFile(t, res.Image, "/var/task/app.py")
	// Every package is a musllinux wheel (numpy, pandas, pyarrow: compiled ones): the
	// builder is the Python base as it is, with no toolchain step at all.
	wantContains(t, "progress", res.Log, "[resolve] resolve -r requirements.txt for musllinux_1_2_x86_64, CPython 3.12")
	wantNoBuilderPackages(t, res)
	for _, p := range []string{"awslambdaric", "pandas", "pyarrow", "numpy"} {
		if !res.Exists("/var/task/" + p + "/__init__.py") {
			t.Errorf("%s is not installed in /var/task", p)
		}
	}
	for _, absent := range []string{"/opt/venv", "/var/task/requirements.txt", "/var/task/Acaifile"} {
		if res.Exists(absent) {
			t.Errorf("%s is in the lambda image", absent)
		}
	}
	reply := invokeLambda(t, res, map[string]any{"records": []map[string]any{
		{"city": "Paris", "sales": 3}, {"city": "Lyon", "sales": 5}, {"city": "Paris", "sales": 4},
	}})
	wantEqual(t, "response", reply, `{"request_id": "req-1", "rows": 3, "columns": ["city", "sales"], "parquet_bytes": `+
		jsonField(t, reply, "parquet_bytes")+`, "sales_by_city": {"Lyon": 5, "Paris": 7}}`)
}

// invokeLambda runs the image's entrypoint with AWS_LAMBDA_RUNTIME_API pointing at a
// Runtime API served by the test, sends event as request "req-1" and returns the body
// the function posted as its response.
func invokeLambda(t *testing.T, res *testbed.Result, event any) string {
	t.Helper()
	api, err := bed.StartLambdaRuntimeAPI()
	if err != nil {
		t.Fatal(err)
	}
	if err := api.Invoke("req-1", event); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(testContext(t), 2*time.Minute)
	defer cancel()
	out := make(chan string, 1)
	go func() {
		o, _ := res.RunWith(ctx, testbed.RunOpts{Env: []string{"AWS_LAMBDA_RUNTIME_API=" + api.Addr}, HostNetwork: true})
		out <- o
	}()
	result, err := api.Result(ctx)
	api.Close() // the client's next poll ends; the runtime then stops
	cancel()
	log := <-out
	if err != nil {
		t.Fatalf("%v\nfunction output:\n%s", err, log)
	}
	t.Logf("Lambda Runtime API: %s for %s: %s", result.Kind, result.RequestID, result.Body)
	if result.Kind != "response" || result.RequestID != "req-1" {
		t.Fatalf("the function posted %s for %q, want a response for req-1: %s\nfunction output:\n%s", result.Kind, result.RequestID, result.Body, log)
	}
	return string(result.Body)
}

// jsonField is one field of a JSON object, as JSON text.
func jsonField(t *testing.T, doc, field string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatalf("not a JSON object: %v: %s", err, doc)
	}
	return string(m[field])
}

// awslambdaric 3.1.1 publishes no musllinux wheel, so on Alpine it compiles from its
// sdist (curl and aws-lambda-cpp, with autotools and cmake). The pinned files serve it
// as an sdist only, so the stand-in compiles it as Alpine would. The Acaifile is the
// Lambda example's, with no [build].apk: the resolution finds the source build and acai
// adds the packages plan/source-builds.toml gives it (the stand-in's apk shim installs
// only what is asked for: without them, "cmake is not installed"), says so, and the
// function answers an invocation.
func TestLambdaOnAnAWSLambdaRICThatCompiles(t *testing.T) {
	t.Parallel()
	dir := example(t, "lambda")
	if acaifile := readHostFile(t, filepath.Join(dir, "Acaifile")); strings.Contains(acaifile, "[build]") {
		t.Fatalf("the Lambda example names build settings; this test is about needing none:\n%s", acaifile)
	}
	setFile(t, dir, "requirements.txt", "awslambdaric==3.1.1\nsimplejson==4.3.0\nsnapshot-restore-py==1.0.0\n")
	setFile(t, dir, "app.py", "def handler(event, context):\n    return {'echo': event['n'] * 2}\n")
	res := mustBuild(t, bed.BuildInProcess, standinBuild(t, dir))
	if !res.Exists("/var/task/runtime_client*.so") {
		t.Errorf("awslambdaric's compiled runtime_client is not in /var/task")
	}
	wantContains(t, "progress", res.Log,
		"[resolve] resolve -r requirements.txt for musllinux_1_2_x86_64, CPython 3.12",
		"[builder] apk add --no-cache build-base linux-headers autoconf automake libtool cmake make elfutils-dev (to compile awslambdaric 3.1.1)",
		"[wheels] awslambdaric 3.1.1 from its source distribution (pip wheel)",
		// The resolution lists awslambdaric alone (its dependencies would need it built),
		// then the whole set once its wheel is built: a layer per package, awslambdaric's
		// taking that wheel.
		"[resolve] resolve -r requirements.txt for musllinux_1_2_x86_64, CPython 3.12, with the dependencies of the wheels built from source",
		"[deps] awslambdaric 3.1.1 (its wheel, compiled from source)", "[deps] simplejson 4.3.0", "[deps] snapshot-restore-py 1.0.0")
	wantContains(t, "warnings", strings.Join(res.Warnings, "\n"),
		"CompilesOnAlpine: awslambdaric 3.1.1 has no musllinux_1_2_x86_64 wheel for CPython 3.12: it compiles in the builder, which acai gives build-base linux-headers autoconf automake libtool cmake make elfutils-dev (builds its bundled aws-lambda-cpp and curl with autotools and cmake); the runner gets libstdc++ (requirements.txt:1)")
	wantContains(t, "apk requests in the runner", readFile(t, res.Image, "/etc/apk/acai-shim-requests"), "libstdc++\n")
	wantEqual(t, "response", invokeLambda(t, res, map[string]int{"n": 21}), `{"echo": 42}`)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
