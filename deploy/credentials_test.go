package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
)

// TestCredentialsAreGeneratedOnceAndRandom runs the script behind
// make compose-up and make k8s-credentials on both examples.
func TestCredentialsAreGeneratedOnceAndRandom(t *testing.T) {
	for _, example := range []string{ComposeEnv, filepath.Join(KustomizeDir, CredentialsEnv+".example")} {
		out := filepath.Join(t.TempDir(), "credentials.env")
		run := func() []byte {
			t.Helper()
			cmd := exec.Command("sh", filepath.Join(root, "scripts", "credentials.sh"), filepath.Join(root, example), out)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		first := run()
		seen := map[string]bool{}
		for _, m := range regexp.MustCompile(`(?m)^\w*PASSWORD=(.*)$`).FindAllStringSubmatch(string(first), -1) {
			if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(m[1]) || seen[m[1]] {
				t.Errorf("%s: password %q is not a fresh random one", example, m[1])
			}
			seen[m[1]] = true
		}
		if len(seen) == 0 || regexp.MustCompile(`(?m)=change-me$`).Match(first) {
			t.Errorf("%s: passwords not generated:\n%s", example, first)
		}
		if again := run(); string(again) != string(first) {
			t.Errorf("%s: a second run changed credentials in use", example)
		}
		if info, _ := os.Stat(out); info.Mode().Perm() != 0o600 {
			t.Errorf("%s: credentials readable by others: %v", example, info.Mode())
		}
	}
}

// TestOneVersionNamesTheImages: make docker-build tags the images with the
// version that the compose file and the chart run.
func TestOneVersionNamesTheImages(t *testing.T) {
	chrt, err := loader.Load(filepath.Join(root, ChartDir))
	if err != nil {
		t.Fatal(err)
	}
	version := chrt.Metadata.AppVersion
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^IMAGE_TAG \?= (\S+)$`).FindSubmatch(makefile); m == nil || string(m[1]) != version {
		t.Errorf("the Makefile's IMAGE_TAG is not the chart's appVersion %s", version)
	}
	p := composeProject(t)
	for name := range services(t) {
		if want := "orderflow/" + name + ":" + version; p.Services[name].Image != want {
			t.Errorf("compose runs %s, want %s", p.Services[name].Image, want)
		}
	}
}
