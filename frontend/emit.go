package frontend

import (
	"maps"
	"os"
	"path"
	"slices"

	"github.com/acai-build/acai/model"
	"github.com/acai-build/acai/spec"
	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
)

// run emits the model's step r on top of st as LLB: its command line, mounts and
// environment, with the build args its tool reads.
func (c *converter) run(st llb.State, r model.Run) llb.ExecState { return c.runWith(st, r, nil) }

// output emits r, a step that writes an Output, on top of st: the output's tree.
func (c *converter) output(st llb.State, r model.Run, stages map[string]llb.State) llb.State {
	return c.runWith(st, r, stages).AddMount(r.Output, llb.Scratch().Platform(c.platform))
}

// runWith is run for a step that mounts other stages (model.Mount.Stage): stages holds
// their states, a stage with an Output by that output.
func (c *converter) runWith(st llb.State, r model.Run, stages map[string]llb.State) llb.ExecState {
	opts := []llb.RunOption{
		llb.Args(r.Args),
		llb.WithProxy(proxyEnv(c.bc.BuildArgs)),
	}
	if r.Dir != "" {
		// pip resolves local projects and --find-links against the directory it runs in:
		// the context's root, as for a user who runs pip from the project's root.
		opts = append(opts, llb.Dir(r.Dir))
	}
	if r.SSH {
		opts = append(opts, llb.AddSSHSocket(llb.SSHOptional))
	}
	for _, m := range r.Mounts {
		if m.Stage != "" {
			opts = append(opts, llb.AddMount(m.Target, stages[m.Stage], llb.Readonly))
			continue
		}
		opts = append(opts, c.mount(r, m))
	}
	if r.MountsResolution {
		opts = append(opts, c.resolutionMount()...)
	}
	for _, kv := range r.Env {
		opts = append(opts, llb.AddEnv(kv[0], kv[1]))
	}
	reads := &tool{argPrefixes: r.ArgPrefixes}
	for _, k := range slices.Sorted(maps.Keys(c.bc.BuildArgs)) {
		// SOURCE_DATE_EPOCH makes the wheels that setuptools builds reproducible.
		// An installer arg with credentials is withheld (rule CredentialsInBuildArg).
		if reads.reads(k) && !spec.CredentialArg(k, c.bc.BuildArgs[k]) || k == "SOURCE_DATE_EPOCH" {
			opts = append(opts, llb.AddEnv(k, c.bc.BuildArgs[k]))
		}
	}
	return st.Run(runOpts(c.opts(r.Stage, r.Name, r.Keys...), opts...)...)
}

// copyLayer emits the model's copy step cp onto st, a layer of s's image: from
// stages[cp.From], or the build context.
func (c *converter) copyLayer(s *stage, st llb.State, cp model.Copy, stages map[string]llb.State) llb.State {
	from := *c.context
	if cp.From != "" {
		from = stages[cp.From]
	}
	c.history(s, cp.ProgressName())
	info := &llb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true, AllowWildcard: true, AllowEmptyWildcard: true,
		IncludePatterns: cp.Include, ExcludePatterns: cp.Exclude}
	return st.File(llb.Copy(from, cp.Src, cp.Dest, info), c.opts(cp.Stage, cp.Name, cp.Keys...)...)
}

// resolutionMount mounts the resolve steps' output into a step that does not read it
// (model.Run.MountsResolution); none when the build was not resolved ahead.
func (c *converter) resolutionMount() []llb.RunOption {
	if c.resolution == nil {
		return nil
	}
	return []llb.RunOption{llb.AddMount(resolvedMount, *c.resolution, llb.Readonly)}
}

// mount emits one of r's mounts.
func (c *converter) mount(r model.Run, m model.Mount) llb.RunOption {
	var ro []llb.MountOption
	if m.Readonly {
		ro = append(ro, llb.Readonly)
	}
	switch {
	case m.Files != nil:
		return llb.AddMount(m.Target, c.tree(m.Files, r.Keys), ro...)
	case m.Project != nil:
		project := llb.Scratch().File(llb.Copy(*c.context, "/", "/", &llb.CopyInfo{CopyDirContentsOnly: true, ExcludePatterns: m.Project}),
			c.opts(stageDeps, "copy the project's sources", r.Keys...)...)
		return llb.AddMount(m.Target, project, ro...)
	case m.Wheel != "":
		return llb.AddMount(m.Target, c.wheels[m.Wheel], ro...)
	case m.Tool == model.ToolUV:
		return llb.AddMount(m.Target, c.uv.state, append(ro, llb.SourcePath("/"))...)
	case m.Cache != "":
		return llb.AddMount(m.Target, llb.Scratch(), llb.AsPersistentCacheDir(m.Cache+"-"+platforms.FormatAll(c.platform), llb.CacheMountShared))
	case m.Secret != "":
		return llb.AddSecret(m.Target, llb.SecretID(m.Secret), llb.SecretOptional)
	}
	panic("model.Mount with nothing to mount at " + m.Target)
}

// tree emits a tree of the model: files acai generates, made in one step of their
// own, or the requirement files (requirementFiles).
func (c *converter) tree(f *model.Files, keys []string) llb.State {
	if f.Name == "" {
		key := ""
		if len(keys) > 0 {
			key = keys[0]
		}
		return c.requirementFiles(f.Context, f.Generated, key)
	}
	var fa *llb.FileAction
	for _, g := range f.Generated {
		mk := llb.Mkfile(path.Join("/", g.Path), os.FileMode(g.FileMode()), g.Data)
		if fa != nil {
			mk = fa.Mkfile(path.Join("/", g.Path), os.FileMode(g.FileMode()), g.Data)
		}
		fa = mk
	}
	return llb.Scratch().File(fa, c.opts(stageDeps, f.Name)...)
}
