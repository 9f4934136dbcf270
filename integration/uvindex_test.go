package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acai-build/acai/spec"
)

// A company network mirrors docker.io and PyPI and nothing else: acai's uv comes from the
// build's Python index (here the loopback index, the only one the test bed has), as the
// pinned, hash-checked wheel. No step loads uv's image; the fetch is one step of its own,
// cached on a rebuild. [build].uv_image selects the image instead.
func TestUVComesFromThePythonIndex(t *testing.T) {
	t.Parallel()
	const acaifile = "packages = [\"cowsay==6.1\"]\nentrypoint = [\"cowsay\", \"-t\", \"uv from the index\"]\n"
	o := standinBuild(t, project(t, bed.WithSyntax(acaifile), nil))
	res := mustBuild(t, bed.BuildWithBuildctl, o)
	fetch := "[deps] uv " + spec.UVVersion + " from the Python index (pip download uv==" + spec.UVVersion + ", hash-checked)"
	wantContains(t, "progress", res.Log, fetch, "[deps] cowsay 6.1")
	if strings.Contains(res.Log, "ghcr.io") || strings.Contains(res.Log, bed.UVStandin) {
		t.Errorf("the build loaded uv's image:\n%s", res.Log)
	}
	wantContains(t, "output", run(t, res.Image), "| uv from the index |")
	for _, absent := range []string{"/acai", "/opt/venv/bin/uv", "/usr/local/bin/uv"} {
		if res.Image.Exists(absent) {
			t.Errorf("%s is in the image: uv reaches no layer", absent)
		}
	}

	again := mustBuild(t, bed.BuildWithBuildctl, o)
	if step, ok := again.Step(fetch); !ok || !step.Cached {
		t.Errorf("a rebuild fetched uv again (%+v, found %v):\n%s", step, ok, again.Log)
	}

	// On a daemon of its own: on the shared one, BuildKit merges this build's install
	// step with another build's of the same cache key (uv's binaries are the same files
	// either way) and then shows that build's fetch step in this one's progress too.
	d, err := bed.StartDaemon(testContext(t), filepath.Join(t.TempDir(), "buildkitd"), "uv-image-buildkitd")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	withImage := standinBuild(t, project(t, bed.WithSyntax(acaifile+fmt.Sprintf("[build]\nuv_image = %q\n", bed.UVStandin)), nil))
	withImage.Addr = d.Socket
	fromImage := mustBuild(t, bed.BuildWithBuildctl, withImage)
	wantContains(t, "progress with [build].uv_image", fromImage.Log, "[deps] FROM "+bed.UVStandin, "[deps] cowsay 6.1")
	if strings.Contains(fromImage.Log, "from the Python index") {
		t.Errorf("[build].uv_image set, and uv was fetched from the index:\n%s", fromImage.Log)
	}
	wantContains(t, "output with [build].uv_image", run(t, fromImage.Image), "| uv from the index |")
}

// An index the build cannot use fails it with one line that names the index (without
// its credentials) and the cause, after pip's own messages, and no script text in the
// error: a loopback port nobody listens on, one that never answers, a private index
// asked without credentials, an HTTPS index whose certificate no CA the build has signed.
// A host name that does not resolve is TestDockerEngine's: only there does a lookup stay
// inside a network namespace of the test bed's.
func TestIndexFailuresNameTheCause(t *testing.T) {
	t.Parallel()
	private, err := bed.PrivateIndex("ci", "tok-acai-5e2a")
	if err != nil {
		t.Fatal(err)
	}
	tlsIndex, _ := tlsIndex(t)
	// An index that takes the connection and never answers: a listener nobody accepts
	// on (the kernel completes the handshake), with pip's timeout cut to 2 s.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	for _, c := range []struct{ name, index, cause string }{
		{"refused", "http://127.0.0.1:9/simple", "it refused the connection"},
		{"timeout", "http://" + silent.Addr().String() + "/simple", "it did not answer in time"},
		{"401", private, "it answered HTTP 401: it wants credentials; give them with --secret id=netrc, id=pip.conf or id=uv.toml"},
		{"untrusted TLS", tlsIndex, "its TLS certificate is not trusted"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := standinBuild(t, project(t, bed.WithSyntax("packages = [\"cowsay==6.1\"]\n"), nil))
			o.Args = map[string]string{"PIP_INDEX_URL": c.index, "PIP_RETRIES": "0", "PIP_TIMEOUT": "2"}
			res, err := bed.BuildWithBuildctl(testContext(t), o)
			if err == nil {
				t.Fatal("the build succeeded")
			}
			out := err.Error()
			if res != nil {
				out = res.Log + out
			}
			wantContains(t, "build output", out, "acai: fetching uv from the Python index "+c.index+" failed: "+c.cause)
			if strings.Contains(out, "urllib") || strings.Contains(out, "import os") {
				t.Errorf("the error carries script text:\n%s", out)
			}
		})
	}
}

// An index behind a certificate the build's images do not trust (a company CA, a proxy
// that intercepts TLS) works with that CA given as the ca-bundle secret: uv comes from
// it, the resolve and the install use it. The index is HTTPS on loopback with a
// certificate of its own.
func TestCABundleSecret(t *testing.T) {
	t.Parallel()
	index, ca := tlsIndex(t)
	o := standinBuild(t, project(t, bed.WithSyntax("packages = [\"cowsay==6.1\"]\nentrypoint = [\"cowsay\", \"-t\", \"trusted\"]\n"), nil))
	o.Args = map[string]string{"PIP_INDEX_URL": index}
	o.Secrets = map[string]string{"ca-bundle": ca}
	res := mustBuild(t, bed.BuildWithBuildctl, o)
	wantContains(t, "output", run(t, res.Image), "| trusted |")
	if res.Image.Exists("/etc/acai") {
		t.Error("the CA bundle's mount point reached the image")
	}
}

// tlsIndex serves the loopback index's files over HTTPS on loopback, with a certificate
// signed by a CA of its own (as a company's is: rustls, in uv, takes no self-signed leaf),
// for the test's lifetime; it returns the simple-index URL and a PEM file of the CA.
func tlsIndex(t *testing.T) (string, string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "acai test bed CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.FileServer(http.Dir(bed.Index.Dir)))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return srv.URL + "/simple", ca
}
