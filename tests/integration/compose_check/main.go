// compose_check loads a compose file the way `docker compose config` does
// (github.com/compose-spec/compose-go: YAML, interpolation, the compose-spec
// JSON schema, merging of anchors and extends, normalization, consistency
// checks) and prints the normalized project as JSON on stdout. Used by
// tests/integration/test_compose.py; no Docker engine needed. Profiles named
// after the file are enabled, as `docker compose --profile NAME` does;
// without any, services that have a profile are left out.
//
//	go run . path/to/docker-compose.yml [PROFILE...] > project.json
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: compose_check COMPOSE_FILE [PROFILE...]")
		os.Exit(64)
	}
	file, err := filepath.Abs(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	opts, err := cli.NewProjectOptions([]string{file},
		cli.WithWorkingDirectory(filepath.Dir(file)),
		cli.WithResolvedPaths(true),
		cli.WithDefaultProfiles(),
	)
	if err == nil && len(os.Args) > 2 {
		err = cli.WithProfiles(os.Args[2:])(opts)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "options:", err)
		os.Exit(1)
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "invalid compose file:", err)
		os.Exit(1)
	}
	out, err := project.MarshalJSON()
	if err != nil {
		fmt.Fprintln(os.Stderr, "marshal:", err)
		os.Exit(1)
	}
	os.Stdout.Write(out)
	os.Stdout.Write([]byte("\n"))
}
