// Command k8s-render writes the plain Kubernetes manifests of k8s/ from the
// Helm chart, so that "kubectl apply -k k8s/" and "helm install" deploy the
// same system. make k8s-render runs it.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/orderflow/orderflow/deploy"
)

func main() {
	root := flag.String("root", ".", "the repository's root")
	flag.Parse()
	if err := deploy.WritePlainManifests(filepath.Join(*root, deploy.ChartDir), filepath.Join(*root, deploy.KustomizeDir), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "k8s-render:", err)
		os.Exit(1)
	}
}
