package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/buildkit/frontend/subrequests/lint"
)

// OlderBuildKits are the buildkitd releases of the Docker Engines users have, which
// hack/setup builds from the module proxy: Docker Engine 25's (the oldest acai supports)
// and Docker Engine 28.2's.
var olderBuildKits = []string{"v0.12.5", "v0.22.0"}

// The BuildKit a user's Docker Engine embeds may be years older than acai's: on each, the
// hello and Lambda examples build through their # syntax line and run, and --check
// answers.
func TestOnTheBuildKitOfOlderDockerEngines(t *testing.T) {
	t.Parallel()
	for _, version := range olderBuildKits {
		t.Run(version, func(t *testing.T) {
			binary := filepath.Join(bed.Cache, "bin", "buildkitd-"+version)
			if _, err := os.Stat(binary); err != nil {
				t.Fatalf("buildkitd %s is not built (hack/setup builds it): %v", version, err)
			}
			// Its state in the cache, as the test bed's own: a second run re-uses it.
			d, err := bed.StartDaemonBinary(testContext(t), binary, filepath.Join(bed.Cache, "buildkitd-"+version), "buildkitd-"+version)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Stop()
			info, err := d.Client.Info(testContext(t))
			if err != nil {
				t.Fatal(err)
			}
			wantEqual(t, "the daemon's version", info.BuildkitVersion.Version, version)

			hello := example(t, "hello")
			setFile(t, hello, "Acaifile", bed.WithSyntax(readHostFile(t, filepath.Join(hello, "Acaifile"))))
			o := standinBuild(t, hello)
			o.Addr = d.Socket
			checkHelloImage(t, mustBuild(t, bed.BuildWithBuildctl, o).Image)

			lambda := example(t, "lambda")
			setFile(t, lambda, "Acaifile", bed.WithSyntax(readHostFile(t, filepath.Join(lambda, "Acaifile"))))
			o = standinBuild(t, lambda)
			o.Addr = d.Socket
			res := mustBuild(t, bed.BuildWithBuildctl, o)
			wantContains(t, "Lambda response", invokeLambda(t, res, map[string]any{"records": []map[string]any{{"city": "Lyon", "sales": 2}}}), `"sales_by_city": {"Lyon": 2}`)

			check := project(t, "packages = [\"cowsay\"]\n", nil)
			o = standinBuild(t, check)
			o.Client = d.Client
			o.Opts = map[string]string{"requestid": "frontend.lint"}
			lintRes := mustBuild(t, bed.BuildInProcess, o)
			var results lint.LintResults
			if err := jsonUnmarshal(lintRes.Response["result.json"], &results); err != nil || len(results.Warnings) != 1 || results.Warnings[0].RuleName != "UnpinnedRequirement" {
				t.Errorf("--check on %s: %v %+v", version, err, results)
			}
		})
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
