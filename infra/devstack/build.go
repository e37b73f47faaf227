package devstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// Build compiles each function's package (its CodeUri) into
// outDir/<Name>/bootstrap, in parallel, the way it ships: -tags lambda.norpc,
// CGO off. It returns the binaries' paths by function name; a failure carries
// the compiler's output.
func Build(ctx context.Context, root, outDir string, fns []Function) (map[string]string, error) {
	out := make(map[string]string, len(fns))
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, f := range fns {
		bin := filepath.Join(outDir, f.Name, "bootstrap")
		out[f.Name] = bin
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = BuildPackage(ctx, root, "./"+strings.TrimSuffix(filepath.ToSlash(f.CodeURI), "/"), bin)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("build %s: %w", f.Name, errs[i])
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// BuildPackage builds one main package (relative to dir) into bin.
func BuildPackage(ctx context.Context, dir, pkg, bin string) error {
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-o", bin, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, strings.TrimSpace(string(b)))
	}
	return nil
}
