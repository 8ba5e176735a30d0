// Command ecs-render writes the ECS files of ecs/ from the Helm chart: a
// task definition per service and the CloudFormation template that deploys
// them, so that Kubernetes and ECS run the same system. make ecs-render
// runs it.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/orderflow/orderflow/deploy"
)

func main() {
	root := flag.String("root", ".", "the repository's root")
	flag.Parse()
	if err := deploy.WriteECSFiles(*root, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ecs-render:", err)
		os.Exit(1)
	}
}
