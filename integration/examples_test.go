package integration

import (
	"encoding/json"
	"strings"
	"testing"
)

// examples/web: an HTTP service, started as the image starts it, answers on its exposed
// port as the non-root user.
func TestWebExampleServesAsNonRoot(t *testing.T) {
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
	if err := json.Unmarshal([]byte(lastLine(out)), &reply); err != nil {
		t.Fatalf("no JSON reply from the service: %v\n%s", err, out)
	}
	wantEqual(t, "path", reply.Path, "/health")
	wantEqual(t, "uid", reply.UID, 10001)
}

// examples/lambda: deps and app in /var/task, started by awslambdaric. PyPI is not
// reachable here, so the test swaps the example's requirements (awslambdaric, pandas,
// pyarrow) for the test bed's awslambdaric stand-in, and its pandas handler for one
// that needs only the standard library; the Acaifile is the example's own.
func TestLambdaExampleLayout(t *testing.T) {
	dir := example(t, "lambda")
	setFile(t, dir, "requirements.txt", "awslambdaric==3.0.0\n")
	setFile(t, dir, "app.py", "def handler(event, context):\n    return {'rows': 2, 'total_sales': 8}\n")
	res := mustBuild(t, bed.BuildInProcess, standinBuild(t, dir))
	cfg := res.Config.Config
	wantSlice(t, "Entrypoint", cfg.Entrypoint, []string{"python", "-m", "awslambdaric"})
	wantSlice(t, "Cmd", cfg.Cmd, []string{"app.handler"})
	wantEqual(t, "WorkingDir", cfg.WorkingDir, "/var/task")
	wantEqual(t, "LAMBDA_TASK_ROOT", res.Env()["LAMBDA_TASK_ROOT"], "/var/task")
	wantEqual(t, "PYTHONPATH", res.Env()["PYTHONPATH"], "/var/task")
	readFile(t, res.Image, "/var/task/awslambdaric/__main__.py")
	readFile(t, res.Image, "/var/task/app.py")
	for _, absent := range []string{"/opt/venv", "/var/task/requirements.txt", "/var/task/Acaifile"} {
		if res.Exists(absent) {
			t.Errorf("%s is in the lambda image", absent)
		}
	}
	out := run(t, res.Image)
	wantContains(t, "output", out, "task root /var/task cwd /var/task", `{"rows": 2, "total_sales": 8}`)
	wantContains(t, "import from /", execIn(t, res.Image, "sh", "-c", "cd / && python -c 'import awslambdaric, app; print(app.__file__)'"), "/var/task/app.py")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
