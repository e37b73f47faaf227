// Command samples writes the sample invocation events under events/ (API
// requests, SQS batches, scheduler inputs) from the golden webhooks.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/aftercare/aftercare/infra/devstack"
	"github.com/aftercare/aftercare/infra/samples"
)

func main() {
	root, err := devstack.ProjectRoot()
	if err == nil {
		err = write(root)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "samples:", err)
		os.Exit(1)
	}
}

func write(root string) error {
	files, err := samples.Generate(root)
	if err != nil {
		return err
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, files[p], 0o644); err != nil {
			return err
		}
		fmt.Println("wrote", p)
	}
	return nil
}
