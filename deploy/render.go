// Package deploy renders and checks the ways the order system is deployed:
// the Dockerfile, the docker compose file, the Kubernetes manifests and
// their Helm chart, the ECS task definitions and CloudFormation template
// rendered from that chart (ecs.go), and the delivery pipeline's workflows.
// Its tests need no Docker engine, no cluster and no AWS account; its
// dependencies (Helm, Kubernetes, compose, the AWS SDK, actionlint) stay
// out of the services' module.
package deploy

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Paths of the deployment files, relative to the repository's root.
const (
	ChartDir     = "k8s/helm/orderflow"
	KustomizeDir = "k8s"
	ComposeFile  = "docker-compose.yml"
	// ComposeExternal is the override that runs the stack on stores of
	// one's own.
	ComposeExternal = "docker-compose.external.yml"
	ComposeEnv      = ".env.example"
	Dockerfile      = "docker/Dockerfile"
	CredentialsEnv  = "credentials.env"
)

// PlainValues are the chart values that render the plain manifests under
// k8s/: the credentials Secret is kustomize's to generate.
func PlainValues() map[string]any {
	return map[string]any{"credentials": map[string]any{"existingSecret": "orderflow-credentials"}}
}

// RenderChart renders the chart in dir as "helm template" does, and returns
// each template's output by file name (gateway.yaml...), empty ones left out.
func RenderChart(dir, release, namespace string, values map[string]any) (map[string]string, error) {
	chrt, err := loader.Load(dir)
	if err != nil {
		return nil, err
	}
	install := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	install.ClientOnly, install.DryRun, install.Replace = true, true, true
	install.ReleaseName, install.Namespace = release, namespace
	rel, err := install.Run(chrt, values)
	if err != nil {
		return nil, err
	}
	return splitBySource(rel.Manifest), nil
}

// docSeparator separates the documents of a YAML stream.
var docSeparator = regexp.MustCompile(`(?m)^---\s*$`)

var sourceLine = regexp.MustCompile(`(?m)^# Source: [^/]+/templates/(\S+)\n`)

// splitBySource groups the documents of a rendered release by the template
// that made them.
func splitBySource(manifest string) map[string]string {
	out := map[string]string{}
	for _, doc := range strings.Split("\n"+manifest, "\n---\n") {
		m := sourceLine.FindStringSubmatch(doc)
		if m == nil || strings.TrimSpace(sourceLine.ReplaceAllString(doc, "")) == "" {
			continue
		}
		body := strings.TrimSpace(strings.TrimPrefix(doc, m[0])) + "\n"
		if out[m[1]] != "" {
			out[m[1]] += "---\n"
		}
		out[m[1]] += body
	}
	return out
}

// LintChart lints the chart in dir with values, as "helm lint --strict"
// would, and returns its findings of warning level and above.
func LintChart(dir string, values map[string]any) []support.Message {
	var found []support.Message
	for _, m := range lint.All(dir, values, "orderflow", false).Messages {
		if m.Severity >= support.WarningSev {
			found = append(found, m)
		}
	}
	return found
}

// Kustomize builds the kustomization in dir as "kubectl apply -k" does. The
// credentials file is git-ignored: when absent, the committed example
// stands in for it.
func Kustomize(dir string) ([]byte, error) {
	fs := filesys.MakeFsInMemory()
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return fs.WriteFile(filepath.Join("/k8s", rel), b)
	})
	if err != nil {
		return nil, err
	}
	if !fs.Exists("/k8s/" + CredentialsEnv) {
		b, err := fs.ReadFile("/k8s/" + CredentialsEnv + ".example")
		if err != nil {
			return nil, err
		}
		if err := fs.WriteFile("/k8s/"+CredentialsEnv, b); err != nil {
			return nil, err
		}
	}
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, "/k8s")
	if err != nil {
		return nil, err
	}
	return res.AsYaml()
}

// PlainHeader starts every plain manifest rendered from the chart.
const PlainHeader = "# Rendered from the Helm chart in k8s/helm/orderflow by make k8s-render: edit the chart, not this file.\n"

// PlainManifests renders the chart into the plain manifests of k8s/, by
// file name.
func PlainManifests(chartDir string) (map[string]string, error) {
	files, err := RenderChart(chartDir, "orderflow", "orderflow", PlainValues())
	if err != nil {
		return nil, err
	}
	for name, body := range files {
		files[name] = PlainHeader + body
	}
	return files, nil
}

// WritePlainManifests writes the plain manifests into dir and lists them.
func WritePlainManifests(chartDir, dir string, w io.Writer) error {
	files, err := PlainManifests(chartDir)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(files[name]), 0o644); err != nil {
			return err
		}
		fmt.Fprintln(w, filepath.Join(dir, name))
	}
	return nil
}

// ptrOr is *p, or def when p is nil.
func ptrOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}
