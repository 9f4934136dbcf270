package integration

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/acai-build/acai/integration/testbed"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// --attest type=sbom with a real scanner: syft (built from its Go module by hack/setup),
// run by BuildKit's scanner protocol as docker/buildkit-syft-scanner would run it. The
// stand-ins are Debian: syft finds the runner's system packages in dpkg's database, where
// on Alpine it reads apk's (/lib/apk/db/installed).

// spdxDoc is the part of an SPDX document the tests read.
type spdxDoc struct {
	Name         string `json:"name"`
	CreationInfo struct {
		Creators []string `json:"creators"`
	} `json:"creationInfo"`
	Packages []spdxPackage `json:"packages"`
}

type spdxPackage struct {
	Name       string `json:"name"`
	Version    string `json:"versionInfo"`
	SourceInfo string `json:"sourceInfo"`
	Comment    string `json:"comment"`
}

// has reports whether the document lists a package of that name (PEP 503-normalised for
// Python packages, as syft and pip spell them differently) and version ("" for any).
func (d spdxDoc) has(name, version string) bool {
	for _, p := range d.Packages {
		if normalize(p.Name) == normalize(name) && (version == "" || p.Version == version) {
			return true
		}
	}
	return false
}

// find is the package of that name, or nil.
func (d spdxDoc) find(name string) *spdxPackage {
	for i, p := range d.Packages {
		if normalize(p.Name) == normalize(name) {
			return &d.Packages[i]
		}
	}
	return nil
}

func normalize(name string) string {
	return strings.ToLower(regexp.MustCompile(`[-_.]+`).ReplaceAllString(name, "-"))
}

// sbomBuild builds dir with the syft scanner for linux/amd64 and returns the image and
// every SPDX document attached to it, by document name.
func sbomBuild(t *testing.T, o testbed.Build) (*testbed.Image, map[string]spdxDoc) {
	t.Helper()
	o.Opts = map[string]string{"attest:sbom": "generator=" + bed.SBOMScanner}
	dest := filepath.Join(t.TempDir(), "oci.tar")
	if _, err := bed.BuildToOCI(testContext(t), o, dest); err != nil {
		t.Fatal(err)
	}
	idx := imageIndex(t, dest+".d")
	img, err := bed.OpenPlatform(idx, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(img.Remove)
	docs := map[string]spdxDoc{}
	for _, statement := range attestations(t, idx) {
		var s struct {
			PredicateType string  `json:"predicateType"`
			Predicate     spdxDoc `json:"predicate"`
		}
		if err := json.Unmarshal([]byte(statement), &s); err != nil || s.PredicateType != "https://spdx.dev/Document" {
			continue
		}
		docs[s.Predicate.Name] = s.Predicate
	}
	return img, docs
}

// attestations are the statements of the index's attestation manifests.
func attestations(t *testing.T, idx v1.ImageIndex) []string {
	t.Helper()
	m, _ := idx.IndexManifest()
	var out []string
	for _, d := range m.Manifests {
		if d.Annotations["vnd.docker.reference.type"] != "attestation-manifest" {
			continue
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		layers, _ := img.Layers()
		for _, l := range layers {
			rc, err := l.Compressed()
			if err != nil {
				t.Fatal(err)
			}
			dt, _ := io.ReadAll(rc)
			rc.Close()
			out = append(out, string(dt))
		}
	}
	return out
}

// distributions are the name → version of every *.dist-info directory matched by glob
// in the image.
func distributions(t *testing.T, img *testbed.Image, glob string) map[string]string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(img.Rootfs(), glob))
	out := map[string]string{}
	for _, d := range dirs {
		f, err := os.Open(filepath.Join(d, "METADATA"))
		if err != nil {
			t.Fatal(err)
		}
		var name, version string
		for sc := bufio.NewScanner(f); sc.Scan() && (name == "" || version == ""); {
			if v, ok := strings.CutPrefix(sc.Text(), "Name: "); ok {
				name = v
			}
			if v, ok := strings.CutPrefix(sc.Text(), "Version: "); ok {
				version = v
			}
		}
		f.Close()
		out[name] = version
	}
	if len(out) == 0 {
		t.Fatalf("no distributions at %s", glob)
	}
	return out
}

// wantEveryDistribution checks that doc lists every distribution with its version.
func wantEveryDistribution(t *testing.T, what string, doc spdxDoc, dists map[string]string) {
	t.Helper()
	for name, version := range dists {
		if !doc.has(name, version) {
			t.Errorf("%s lists no %s %s", what, name, version)
		}
	}
}

// The Lambda example with awslambdaric 3.1.1, which compiles in the builder: syft's SBOM
// of the image lists every distribution of the task root with its version and the
// runner's system packages, compilers none; with BUILDKIT_SBOM_SCAN_STAGE=true a second
// scan covers the dependency stage (no compiler either: awslambdaric compiled in its wheel
// stage); acai's own document marks awslambdaric as compiled from source, with what, and
// the wheels as wheels.
func TestSBOMOfTheLambdaExampleWithSyft(t *testing.T) {
	t.Parallel()
	dir := example(t, "lambda")
	setFile(t, dir, "requirements.txt", "awslambdaric==3.1.1\nsimplejson==4.3.0\nsnapshot-restore-py==1.0.0\n")
	o := standinBuild(t, dir)
	o.Args["BUILDKIT_SBOM_SCAN_STAGE"] = "true"
	img, docs := sbomBuild(t, o)
	var names []string
	for n := range docs {
		names = append(names, n)
	}
	slices.Sort(names)
	wantSlice(t, "SPDX documents", names, []string{"acai resolution for linux/amd64", "sbom", "sbom-deps"})

	image := docs["sbom"]
	wantContains(t, "image SBOM creators", strings.Join(image.CreationInfo.Creators, " "), "Tool: syft-")
	dists := distributions(t, img, "var/task/*.dist-info")
	wantEqual(t, "awslambdaric in the task root", dists["awslambdaric"], "3.1.1")
	wantEveryDistribution(t, "the image's SBOM", image, dists)
	// The runner's system packages: what the apk shim installed for each request
	// (Debian's, on the stand-in), and no compiler.
	for _, deb := range []string{"libstdc++6", "python3.11", "ca-certificates"} {
		if !image.has(deb, "") {
			t.Errorf("the image's SBOM lists no system package %s", deb)
		}
	}
	wantContains(t, "apk requests", readFile(t, img, "etc/apk/acai-shim-requests"), "libstdc++")
	for _, compiler := range []string{"gcc", "g++", "cmake", "make", "gcc-12"} {
		if image.has(compiler, "") {
			t.Errorf("the image's SBOM lists %s: a compiler reached the runner", compiler)
		}
	}

	// The dependency stage holds the installed packages; awslambdaric compiled in its
	// own wheel stage, so no compiler is in this one (acai's document names them below).
	deps := docs["sbom-deps"]
	if !deps.has("awslambdaric", "3.1.1") || !deps.has("simplejson", "4.3.0") {
		t.Errorf("the dependency stage's SBOM lacks awslambdaric 3.1.1 or simplejson 4.3.0 (%d packages)", len(deps.Packages))
	}
	if deps.has("cmake", "") || deps.has("gcc-12", "") {
		t.Errorf("the dependency stage's SBOM lists a compiler: its installs compiled nothing")
	}

	// An excerpt of the real SBOM, for the reader of the test log.
	for _, name := range []string{"awslambdaric", "simplejson", "libstdc++6"} {
		if p := image.find(name); p != nil {
			t.Logf("syft, image: %s %s (%s)", p.Name, p.Version, p.SourceInfo)
		}
	}
	acai := docs["acai resolution for linux/amd64"]
	for _, p := range acai.Packages {
		t.Logf("acai: %s %s: %s %s", p.Name, p.Version, p.SourceInfo, p.Comment)
	}
	wantEqual(t, "acai document creators", strings.Join(acai.CreationInfo.Creators, " "), "Tool: acai")
	ric := acai.find("awslambdaric")
	if ric == nil {
		t.Fatalf("acai's document has no awslambdaric: %+v", acai.Packages)
	}
	wantEqual(t, "awslambdaric version", ric.Version, "3.1.1")
	wantContains(t, "awslambdaric", ric.SourceInfo+" "+ric.Comment,
		"compiled from its source distribution in the acai builder: no musllinux_1_2_x86_64 wheel for CPython 3.12",
		"build-base linux-headers autoconf automake libtool cmake make elfutils-dev")
	if sj := acai.find("simplejson"); sj == nil || !strings.Contains(sj.SourceInfo, "installed from the wheel simplejson-4.3.0-cp312-cp312-musllinux_1_2_x86_64.whl") {
		t.Errorf("acai's document says of simplejson: %+v", sj)
	}
}

// A uv.lock project: syft's SBOM lists every distribution of the venv, the project
// itself too, with its version; acai's document names the locked packages as wheels.
func TestSBOMOfAUVProjectWithSyft(t *testing.T) {
	t.Parallel()
	dir := uvProject(t, "lock = \"uv.lock\"\nentrypoint = [\"greet\"]\n[build]\nextras = [\"yaml\"]\n")
	img, docs := sbomBuild(t, standinBuild(t, dir))
	dists := distributions(t, img, "opt/venv/lib/python3*/site-packages/*.dist-info")
	for _, want := range []string{"greeter", "cowsay", "PyYAML"} {
		if dists[want] == "" && dists[strings.ToLower(want)] == "" {
			t.Errorf("the venv has no %s: %v", want, dists)
		}
	}
	wantEveryDistribution(t, "the image's SBOM", docs["sbom"], dists)
	if _, ok := docs["sbom-deps"]; ok {
		t.Errorf("the dependency stage was scanned without BUILDKIT_SBOM_SCAN_STAGE")
	}
	acai := docs["acai resolution for linux/amd64"]
	if c := acai.find("cowsay"); c == nil || !strings.Contains(c.SourceInfo, "installed from the wheel cowsay-6.1-py3-none-any.whl") {
		t.Errorf("acai's document says of cowsay: %+v", c)
	}
}
