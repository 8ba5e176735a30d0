package gateway

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// SwagArgs are the arguments of `go tool swag` that generate package docs
// from this package's annotations; `make swag` runs the same.
var swagArgs = []string{"tool", "swag", "init", "--quiet", "-g", "gateway.go", "-d", ".", "--outputTypes", "go,json", "--packageName", "docs"}

// TestSwaggerDocsAreUpToDate fails when the committed OpenAPI document no
// longer matches the annotations: run `make swag` and commit the result.
func TestSwaggerDocsAreUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: generates the docs")
	}
	out := t.TempDir()
	cmd := exec.Command("go", append(swagArgs, "-o", out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go tool swag: %v\n%s", err, b)
	}
	for _, name := range []string{"docs.go", "swagger.json"} {
		want, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		have, err := os.ReadFile(filepath.Join("docs", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want, have) {
			t.Errorf("gateway/docs/%s is stale: run `make swag` and commit it", name)
		}
	}
}
