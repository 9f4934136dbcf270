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
		ejected, err := frontend.EjectFile(appcontext.Context(), file)
		if err != nil {
			return err
		}
		text = []byte(ejected)
	default:
		return fmt.Errorf("unknown command %q: run as a BuildKit frontend (no arguments), or `eject [Acaifile]`, or `schema [-o FILE]`, or `reference [-o FILE]`", name)
	}
	if *out != "" {
		return os.WriteFile(*out, text, 0o644)
	}
	_, err := os.Stdout.Write(text)
	return err
}
