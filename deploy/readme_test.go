package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestTheREADMECommandsNameWhatExists: the make targets, paths, namespace,
// Service and port that the README's deployment commands name exist.
func TestTheREADMECommandsNameWhatExists(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile("`make ([a-z0-9-]+)").FindAllSubmatch(readme, -1) {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(string(m[1])) + `:`).Match(makefile) {
			t.Errorf("the README runs make %s, which the Makefile lacks", m[1])
		}
	}
	for _, re := range []string{"kubectl apply -k ([^\\s`]+)", "helm install \\S+ ([^\\s`]+)", "cp ([^\\s`]+) ", `docker/Dockerfile`} {
		for _, m := range regexp.MustCompile(re).FindAllSubmatch(readme, -1) {
			path := string(m[len(m)-1])
			if _, err := os.Stat(filepath.Join(root, path)); err != nil {
				t.Errorf("the README names %s: %v", path, err)
			}
		}
	}

	out, err := Kustomize(filepath.Join(root, KustomizeDir))
	if err != nil {
		t.Fatal(err)
	}
	s := decode(t, out)
	forwards := regexp.MustCompile(`kubectl -n (\S+) port-forward svc/(\S+) (\d+):(\d+)`).FindAllStringSubmatch(string(readme), -1)
	if len(forwards) == 0 {
		t.Error("the README does not say how to reach the gateway in Kubernetes")
	}
	for _, f := range forwards {
		svc := s.services[f[2]]
		if s.namespaceOf["Service/"+f[2]] != f[1] || svc == nil || !strings.Contains(portsOf(svc.Spec.Ports), ","+f[4]+",") {
			t.Errorf("the README forwards to %s:%s in namespace %s, which does not exist", f[2], f[4], f[1])
		}
	}
}
