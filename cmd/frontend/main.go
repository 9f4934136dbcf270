// Command frontend is the acai BuildKit frontend: the program in the image that
// `# syntax=acai/frontend` names. Run by hand, it also has tools for people:
//
//	frontend eject [Acaifile]     print the equivalent multi-stage Dockerfile
//	frontend schema [-o FILE]     print the Acaifile's JSON Schema
//	frontend reference [-o FILE]  print the Acaifile reference (docs/reference.md)
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/acai-build/acai/frontend"
	"github.com/acai-build/acai/spec"
	"github.com/moby/buildkit/frontend/gateway/grpcclient"
	"github.com/moby/buildkit/util/appcontext"
)

func main() {
	if len(os.Args) > 1 {
		if err := command(os.Args[1], os.Args[2:]); err != nil {
			fmt.Fprintf(os.Stderr, "acai: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if err := grpcclient.RunFromEnvironment(appcontext.Context(), frontend.Build); err != nil {
		fmt.Fprintf(os.Stderr, "acai: %v\n", err)
		os.Exit(1)
	}
}

func command(name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	out := fs.String("o", "", "write to this file instead of standard output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var text []byte
	switch name {
	case "schema":
		text = spec.Schema()
	case "reference":
		text = spec.Reference()
	case "eject":
		file := "Acaifile"
		if fs.NArg() > 0 {
			file = fs.Arg(0)
		}
		dt, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		// As in a build, a .python-version beside the Acaifile picks the Python when the
		// Acaifile does not (the Acaifile is read from the build context's root).
		root := filepath.Dir(file)
		files := spec.ContextFilesFrom(func(name string) ([]byte, bool) {
			dt, err := os.ReadFile(filepath.Join(root, name))
			return dt, err == nil
		})
		a, err := spec.ParseWithContext(file, dt, files)
		if err != nil {
			return err
		}
		pyproject, _ := os.ReadFile(filepath.Join(root, a.ProjectDir(), "pyproject.toml"))
		project := frontend.Project{Installable: frontend.InstallsProject(a) && spec.HasBuildSystem(pyproject)}
		if ws := spec.UVWorkspaceOf(pyproject); ws != nil && a.LockKind() == spec.LockUV {
			for _, pattern := range ws.MemberPatterns(a.ProjectDir()) {
				found, _ := filepath.Glob(filepath.Join(root, filepath.FromSlash(pattern)))
				for _, f := range found {
					member, err := filepath.Rel(filepath.Join(root, a.ProjectDir()), filepath.Dir(f))
					if err == nil && member != "." && !ws.Excludes(filepath.ToSlash(member)) {
						project.Members = append(project.Members, filepath.ToSlash(member))
					}
				}
			}
		}
		lock, _ := os.ReadFile(filepath.Join(root, a.Lock))
		switch a.LockKind() {
		case spec.LockUV:
			project.LockIndexes = spec.UVLockIndexes(lock)
		case spec.LockPylock:
			project.LockHashedRequirements, _ = spec.PylockIndexRequirements(lock)
		}
		if a.LockKind() == spec.LockPoetry {
			if project.LockRequirements, err = a.PoetryRequirements(lock, pyproject); err != nil {
				return err
			}
		}
		text = []byte(frontend.EjectProject(a, project))
	default:
		return fmt.Errorf("unknown command %q: run as a BuildKit frontend (no arguments), or `eject [Acaifile]`, or `schema [-o FILE]`, or `reference [-o FILE]`", name)
	}
	if *out != "" {
		return os.WriteFile(*out, text, 0o644)
	}
	_, err := os.Stdout.Write(text)
	return err
}
