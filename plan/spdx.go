package plan

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// SPDX is what acai knows about the Python distributions of a build, as an in-toto
// statement with an SPDX 2.3 document: each resolved package with its version, and how
// it came into the image (the wheel it installed, or compiled from its source
// distribution in the builder, with what). A scanner reads the image's files and
// cannot tell a compiled package from a wheel; this document says which is which. It is
// attached beside the scanner's SBOM when --attest type=sbom is asked for.
func (p *Plan) SPDX(platform string, created time.Time) ([]byte, error) {
	type ref struct {
		Category string `json:"referenceCategory"`
		Type     string `json:"referenceType"`
		Locator  string `json:"referenceLocator"`
	}
	type pkg struct {
		Name          string `json:"name"`
		SPDXID        string `json:"SPDXID"`
		Version       string `json:"versionInfo,omitempty"`
		Download      string `json:"downloadLocation"`
		FilesAnalyzed bool   `json:"filesAnalyzed"`
		SourceInfo    string `json:"sourceInfo"`
		Comment       string `json:"comment,omitempty"`
		Purpose       string `json:"primaryPackagePurpose"`
		Refs          []ref  `json:"externalRefs,omitempty"`
	}
	type relationship struct {
		Element string `json:"spdxElementId"`
		Type    string `json:"relationshipType"`
		Related string `json:"relatedSpdxElement"`
	}
	var pkgs []pkg
	var rels []relationship
	for _, d := range p.Packages {
		id := "SPDXRef-acai-pypi-" + spdxIDPart(d.Name)
		how := "installed from the wheel " + d.Wheel + " (" + d.WheelTag() + ")"
		comment := ""
		if d.Compiles() {
			how = "compiled from its source distribution in the acai builder: no " + p.Target.WheelPlatform() + " wheel for CPython " + p.Target.Python
			if d.Source != SourceIndex {
				how = "built in the acai builder from " + d.Source
			}
			for _, s := range p.SourceBuilds {
				if s.Name == d.Name && len(p.Toolchain)+len(s.Build) > 0 {
					comment = "built with the Alpine packages " + strings.Join(appendNew(append([]string(nil), p.Toolchain...), s.Build...), " ")
				}
			}
		}
		var refs []ref
		if d.Version != "" {
			refs = append(refs, ref{"PACKAGE-MANAGER", "purl", "pkg:pypi/" + strings.ToLower(d.Name) + "@" + d.Version})
		}
		pkgs = append(pkgs, pkg{Name: d.Name, SPDXID: id, Version: d.Version, Download: "NOASSERTION", SourceInfo: how, Comment: comment, Purpose: "LIBRARY", Refs: refs})
		rels = append(rels, relationship{"SPDXRef-DOCUMENT", "DESCRIBES", id})
	}
	doc := map[string]any{
		"spdxVersion":   "SPDX-2.3",
		"dataLicense":   "CC0-1.0",
		"SPDXID":        "SPDXRef-DOCUMENT",
		"name":          "acai resolution for " + platform,
		"creationInfo":  map[string]any{"created": created.UTC().Format(time.RFC3339), "creators": []string{"Tool: acai"}},
		"packages":      pkgs,
		"relationships": rels,
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	// The namespace is unique per document, as SPDX asks, and the same for the same content.
	doc["documentNamespace"] = fmt.Sprintf("https://acai.invalid/spdx/resolution/%x", sha256.Sum256(body))
	return json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v0.1",
		"predicateType": "https://spdx.dev/Document",
		"predicate":     doc,
	})
}

// spdxIDPart is name as SPDX identifiers allow it: letters, digits, "." and "-".
func spdxIDPart(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '-'
	}, name)
}
