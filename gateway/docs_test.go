package gateway

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/orderflow/orderflow/gateway/apidoc"
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
	v3, err := apidoc.Convert(must(os.ReadFile(filepath.Join(out, "swagger.json"))))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "openapi.json"), v3, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"docs.go", "swagger.json", "openapi.json"} {
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

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
