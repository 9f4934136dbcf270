// Command frontend is the acai BuildKit frontend: the program in the image that
// `# syntax=acai/frontend` names.
package main

import (
	"fmt"
	"os"

	"github.com/acai-build/acai/frontend"
	"github.com/moby/buildkit/frontend/gateway/grpcclient"
	"github.com/moby/buildkit/util/appcontext"
)

func main() {
	if err := grpcclient.RunFromEnvironment(appcontext.Context(), frontend.Build); err != nil {
		fmt.Fprintf(os.Stderr, "acai: %v\n", err)
		os.Exit(1)
	}
}
