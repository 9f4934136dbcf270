package frontend

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/acai-build/acai/plan"
	intoto "github.com/in-toto/in-toto-golang/in_toto"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/attestations/sbom"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	gatewaypb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/result"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// --attest type=sbom, as the Dockerfile frontend does it: the scanner image reads the
// built image; --build-arg BUILDKIT_SBOM_SCAN_STAGE=true (or =deps) adds the dependency
// stage (the builder with everything installed, compilers and all) and
// BUILDKIT_SBOM_SCAN_CONTEXT=true the build context, each as a scan of its own. Beside the
// scanner's documents, acai attaches its own (plan.SPDX): how each Python distribution
// came in, a wheel or compiled in the builder, which no scanner can see in the files.

// Build args that add scan targets, as for a Dockerfile.
const (
	sbomScanStageArg   = "BUILDKIT_SBOM_SCAN_STAGE"
	sbomScanContextArg = "BUILDKIT_SBOM_SCAN_CONTEXT"
)

// scanned is what one platform's SBOM scan reads.
type scanned struct {
	image   llb.State
	deps    *llb.State // nil for --target builder
	context llb.State
	plan    *plan.Plan // nil when the build was not resolved
}

// sbomScanner is the --attest type=sbom scanner, or nil when none was asked for.
func sbomScanner(ctx context.Context, bc *dockerui.Client) (sbom.Scanner, error) {
	if bc.SBOM == nil {
		return nil, nil
	}
	p := bc.BuildPlatforms[0]
	return sbom.CreateSBOMScanner(ctx, bc.GatewayClient(), bc.SBOM.Generator, p, sourceresolver.Opt{
		ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &p, ResolveMode: bc.ImageResolveMode.String()},
	}, bc.SBOM.Parameters)
}

// scanEnabled reports whether a BUILDKIT_SBOM_SCAN_* build arg asks for stage: true, or
// a comma-separated list of stage names that has it (as the Dockerfile frontend reads it).
func scanEnabled(args map[string]string, arg, stage string) bool {
	v, ok := args[arg]
	if !ok {
		return false
	}
	if b, err := strconv.ParseBool(v); err == nil {
		return b
	}
	return slices.Contains(strings.Split(v, ","), stage)
}

// attachSBOMs scans each platform's image (and the extras asked for) and attaches the
// scanner's documents and acai's.
func attachSBOMs(ctx context.Context, c client.Client, bc *dockerui.Client, rb *dockerui.ResultBuilder, scanner sbom.Scanner, finals *sync.Map, epoch *time.Time) error {
	solve := func(st *llb.State) (client.Reference, error) {
		def, err := st.Marshal(ctx)
		if err != nil {
			return nil, err
		}
		r, err := c.Solve(ctx, client.SolveRequest{Definition: def.ToPB()})
		if err != nil {
			return nil, err
		}
		return r.Ref, nil
	}
	return rb.EachPlatform(ctx, func(ctx context.Context, id string, p ocispecs.Platform) error {
		v, ok := finals.Load(id)
		if !ok {
			return fmt.Errorf("no image to scan for %s", id)
		}
		s := v.(*scanned)
		extras := map[string]llb.State{}
		if s.deps != nil && (scanEnabled(bc.BuildArgs, sbomScanStageArg, stageDeps) || scanEnabled(bc.BuildArgs, sbomScanStageArg, stageBuilder)) {
			extras[stageDeps] = *s.deps
		}
		if scanEnabled(bc.BuildArgs, sbomScanContextArg, "context") {
			extras["context"] = s.context
		}
		att, err := scanner(ctx, id, s.image, extras)
		if err != nil {
			return err
		}
		solved, err := result.ConvertAttestation(&att, solve)
		if err != nil {
			return err
		}
		rb.AddAttestation(id, *solved)
		if s.plan == nil {
			return nil
		}
		created := time.Now()
		if epoch != nil {
			created = *epoch
		}
		dt, err := s.plan.SPDX(id, created)
		if err != nil {
			return err
		}
		doc := llb.Scratch().File(llb.Mkfile("/acai-resolution.spdx.json", 0o644, dt), llb.WithCustomName("[sbom] acai's resolution: wheels and source builds"))
		ref, err := solve(&doc)
		if err != nil {
			return err
		}
		rb.AddAttestation(id, result.Attestation[client.Reference]{
			Kind:     gatewaypb.AttestationKind_Bundle,
			Ref:      ref,
			Metadata: map[string][]byte{result.AttestationReasonKey: []byte(result.AttestationReasonSBOM)},
			InToto:   result.InTotoAttestation{PredicateType: intoto.PredicateSPDX},
		})
		return nil
	})
}
