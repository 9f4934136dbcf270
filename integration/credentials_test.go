package integration

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A private index (basic auth, served by the test) reached each way acai supports — a
// netrc secret, a pip.conf secret — and once with a build arg that carries the
// credential, which acai withholds from the install with a warning (the netrc secret doing
// the authenticating). Every exported blob — layers, image config and history, provenance
// (mode=max), SBOM, and the registry cache export — is searched for the credential: the
// secrets leave it nowhere. The build arg leaves it in one place only, which no frontend
// controls: BuildKit's own record of the request's build args in the provenance (why the
// warning says to use a secret).
func TestCredentialsReachNoExportedBlob(t *testing.T) {
	t.Parallel()
	const user, token = "ci", "tok-acai-7f3c9e1d"
	private, err := bed.PrivateIndex(user, token)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	netrc := filepath.Join(tmp, "netrc")
	pipConf := filepath.Join(tmp, "pip.conf")
	writeHostFile(t, netrc, "machine 127.0.0.1 login "+user+" password "+token+"\n")
	writeHostFile(t, pipConf, "[global]\nindex-url = "+strings.Replace(private, "http://", "http://"+user+":"+token+"@", 1)+"\n")
	withCreds := strings.Replace(private, "http://", "http://"+user+":"+token+"@", 1)

	for _, c := range []struct {
		name    string
		args    map[string]string
		secrets map[string]string
		warning string
		// recorded is the text BuildKit's provenance keeps of the request, if any.
		recorded string
	}{
		{"netrc secret", map[string]string{"PIP_INDEX_URL": private}, map[string]string{"netrc": netrc}, "", ""},
		{"pip.conf secret", nil, map[string]string{"pip.conf": pipConf}, "", ""},
		{"build arg with credentials", map[string]string{"PIP_INDEX_URL": private, "PIP_EXTRA_INDEX_URL": withCreds},
			map[string]string{"netrc": netrc}, "CredentialsInBuildArg: build arg PIP_EXTRA_INDEX_URL carries credentials",
			`"build-arg:PIP_EXTRA_INDEX_URL":"` + withCreds + `"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := project(t, bed.WithSyntax("# syntax=acai/frontend\npackages = [\"cowsay==6.1\"]\nentrypoint = [\"cowsay\", \"-t\", \"private\"]\n"), nil)
			o := standinBuild(t, dir)
			o.Args = c.args
			if o.Args == nil {
				o.Args = map[string]string{}
			}
			o.Secrets = c.secrets
			// BuildKit keys no step by its secrets: an arg of this run's own, so that the
			// install runs with these credentials rather than coming from an earlier build.
			o.Args["PIP_USER_AGENT_USER_DATA"] = fmt.Sprintf("%s %d", t.Name(), time.Now().UnixNano())
			o.Opts = map[string]string{"attest:provenance": "mode=max", "attest:sbom": "generator=" + bed.SBOMScanner}
			cacheRef := bed.Registry + "/acai-test/cache:" + strings.ReplaceAll(c.name, " ", "-")
			res, layout, err := bed.BuildctlToOCI(testContext(t), o, "--export-cache", "type=registry,ref="+cacheRef+",mode=max,registry.insecure=true")
			if err != nil {
				t.Fatal(err)
			}
			wantContains(t, "buildctl output", res.Log, "[deps] cowsay 6.1", "exporting cache")
			if c.warning != "" {
				// buildctl does not print frontend warnings; the same build in-process shows them.
				plain := o
				plain.Opts = nil // an image, not an index with attestations
				again := mustBuild(t, bed.BuildInProcess, plain)
				wantContains(t, "warnings", joinLines(again.Warnings), c.warning)
				if strings.Contains(joinLines(again.Warnings), token) {
					t.Errorf("the warning repeats the credential")
				}
			}
			provenance, recorded := false, false
			for _, dir := range []string{layout, bed.RegistryBlobs()} {
				walkBlobs(t, dir, func(p string, dt []byte) {
					if c.recorded != "" && bytes.Contains(dt, []byte(c.recorded)) {
						recorded = true
						dt = bytes.ReplaceAll(dt, []byte(c.recorded), nil)
					}
					if i := bytes.Index(dt, []byte(token)); i >= 0 {
						around := string(dt[max(0, i-200):min(len(dt), i+len(token)+50)])
						t.Errorf("the credential is in %s: …%s…", p, strings.ReplaceAll(around, token, "<TOKEN>"))
					}
					provenance = provenance || bytes.Contains(dt, []byte("https://slsa.dev/provenance"))
				})
			}
			if !provenance {
				t.Errorf("no provenance attestation was exported: the search proves nothing")
			}
			if c.recorded != "" && !recorded {
				t.Errorf("BuildKit's provenance no longer records the request's build args: this test's exception can go")
			}
			if strings.Contains(res.Log, token) {
				t.Errorf("the credential is in the build output")
			}
		})
	}
}

// walkBlobs calls fn with every file under dir, gunzipped when it is gzip.
func walkBlobs(t *testing.T, dir string, fn func(path string, data []byte)) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		dt, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if len(dt) > 2 && dt[0] == 0x1f && dt[1] == 0x8b {
			if zr, err := gzip.NewReader(bytes.NewReader(dt)); err == nil {
				if plain, err := io.ReadAll(zr); err == nil {
					dt = plain
				}
			}
		}
		fn(p, dt)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func writeHostFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Credentials written into an index URL of the Acaifile are an error at their line that
// says how to pass them, and the error does not repeat the secret.
func TestCredentialsInTheAcaifileAreAnError(t *testing.T) {
	t.Parallel()
	out, err := syntaxBuild(t, "packages = [\"cowsay==6.1\"]\n[build]\nindex_url = \"https://ci:tok-acai-5b2e@pypi.example.com/simple/\"\n", nil)
	if err == nil {
		t.Fatalf("an index URL with credentials built:\n%s", out)
	}
	wantContains(t, "buildctl output", out, "Acaifile:4:13: `build.index_url` carries credentials (ci@pypi.example.com)",
		"--secret id=netrc", `>>> index_url = "https://ci:`)
	if strings.Count(out, "tok-acai-5b2e") > 1 {
		t.Errorf("the error repeats the credential beyond the source line buildctl shows")
	}
}
