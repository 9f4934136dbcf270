package frontend

import (
	"context"
	"sync"

	"github.com/acai-build/acai/model"
	"github.com/acai-build/acai/spec"
	"github.com/moby/buildkit/frontend/dockerui"
)

// baseImages are a build's base image resolutions: each image once per platform,
// however many stages and converters use it. Before the build reads its context, it
// starts the resolutions it is sure to need (prefetch), as the Dockerfile frontend
// resolves all its FROM images at once: they are then ready when the stages ask.
type baseImages struct {
	mu   sync.Mutex
	byID map[string]*imageResolution // platform + " " + ref
}

type imageResolution struct {
	done  chan struct{}
	stage *stage // shared: callers copy before they change it
	err   error
}

func newBaseImages() *baseImages { return &baseImages{byID: map[string]*imageResolution{}} }

// get is the image ref for platform p, loaded by the first caller (load), waited for by
// the others.
func (b *baseImages) get(p, ref string, load func() (*stage, error)) (*stage, error) {
	key := p + " " + ref
	b.mu.Lock()
	r, ok := b.byID[key]
	if !ok {
		r = &imageResolution{done: make(chan struct{})}
		b.byID[key] = r
	}
	b.mu.Unlock()
	if ok {
		<-r.done
		return r.stage, r.err
	}
	r.stage, r.err = load()
	close(r.done)
	return r.stage, r.err
}

// prefetch starts resolving what a build of target surely resolves, on each target
// platform it builds natively (a cross build's steps run elsewhere): the builder's base
// and the runner's, and [build].uv_image when the Acaifile names something to install. Only when
// the Acaifile sets `python`: otherwise .python-version or pyproject.toml, read from
// the context, may choose another base. A failed resolution fails the build when a
// stage asks for it, as it would have without prefetch.
func (b *baseImages) prefetch(ctx context.Context, bc *dockerui.Client, src *dockerui.Source, a *spec.Acaifile, target string) {
	if _, set := a.Source.Span("python"); !set || !isTarget(target) {
		return
	}
	ps := bc.TargetPlatforms
	if len(ps) == 0 {
		ps = bc.BuildPlatforms[:1]
	}
	for _, p := range ps {
		if !samePlatform(p, bc.BuildPlatforms[0]) {
			continue
		}
		c := &converter{bc: bc, spec: a, smap: src.SourceMap, platform: p, images: b}
		type want struct {
			stageName string
			model.Image
		}
		var wants []want
		// In the order the stages ask, so that each image gets the stage name (in its
		// progress, for --no-cache-filter) it gets without prefetch.
		if nc, err := bc.NamedContext(stageBuilder, dockerui.ContextOpt{Platform: &p}); err == nil && nc == nil {
			wants = append(wants, want{stageBuilder, builderImage(a)})
		}
		if target != stageBuilder {
			if a.Build.UVImage != "" && (len(a.Requirements)+len(a.Packages) > 0 || a.Lock != "") {
				wants = append(wants, want{stageDeps, model.Image{Ref: a.Build.UVImage, Keys: []string{"build.uv_image", "build.installer", "lock"}}})
			}
			wants = append(wants, want{stageRunner, runnerImage(a)})
		}
		seen := map[string]bool{}
		for _, w := range wants {
			if !seen[w.Ref] {
				seen[w.Ref] = true
				// Its error is kept for the stage that asks.
				go c.baseImage(ctx, w.stageName, w.Ref, w.Keys...)
			}
		}
	}
}
