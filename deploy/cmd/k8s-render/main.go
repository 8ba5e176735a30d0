// Command k8s-render writes the plain Kubernetes manifests of k8s/ from the
// Helm chart, so that "kubectl apply -k k8s/" and "helm install" deploy the
// same system. Run it from the repository's root (make k8s-render).
package main

import (
	"fmt"
	"os"

	"github.com/orderflow/orderflow/deploy"
)

func main() {
	if err := deploy.WritePlainManifests(deploy.ChartDir, deploy.KustomizeDir, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "k8s-render:", err)
		os.Exit(1)
	}
}
