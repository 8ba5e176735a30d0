package deploy

import (
	"go/version"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"golang.org/x/mod/modfile"
	"gopkg.in/yaml.v3"
)

// workflowsDir holds the GitHub Actions workflows: ci.yml tests every push
// and pull request, release.yml pushes the images and deploys them.
const workflowsDir = ".github/workflows"

// workflow is what the tests read of a GitHub Actions workflow.
type workflow struct {
	path string
	node *yaml.Node // the document, with its comments

	On          yaml.Node      `yaml:"on"`
	Permissions any            `yaml:"permissions"`
	Jobs        map[string]job `yaml:"jobs"`
}

type job struct {
	Permissions any    `yaml:"permissions"`
	Uses        string `yaml:"uses"` // a reusable workflow
	Strategy    struct {
		Matrix map[string]any `yaml:"matrix"`
	} `yaml:"strategy"`
	Steps []step `yaml:"steps"`
}

type step struct {
	Uses string         `yaml:"uses"`
	Run  string         `yaml:"run"`
	With map[string]any `yaml:"with"`
}

// action is the action a step uses, without its version: "actions/checkout".
func (s step) action() string {
	name, _, _ := strings.Cut(s.Uses, "@")
	return name
}

// uses reports whether one of the job's steps uses action.
func (j job) uses(action string) bool {
	return slices.ContainsFunc(j.Steps, func(s step) bool { return s.action() == action })
}

// grants returns what a permissions value grants, scope to level, with
// "*" for read-all and write-all.
func grants(permissions any) map[string]string {
	out := map[string]string{}
	switch p := permissions.(type) {
	case string:
		level, _ := strings.CutSuffix(p, "-all")
		out["*"] = level
	case map[string]any:
		for scope, level := range p {
			out[scope], _ = level.(string)
		}
	}
	return out
}

func workflowPaths(t *testing.T) []string {
	t.Helper()
	var paths []string
	for _, pattern := range []string{"*.yml", "*.yaml"} {
		m, err := filepath.Glob(filepath.Join(root, workflowsDir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, m...)
	}
	if len(paths) == 0 {
		t.Fatalf("%s has no workflow", workflowsDir)
	}
	slices.Sort(paths)
	return paths
}

func workflows(t *testing.T) []*workflow {
	t.Helper()
	var out []*workflow
	for _, path := range workflowPaths(t) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		w := &workflow{path: filepath.Base(path), node: &yaml.Node{}}
		if err := yaml.Unmarshal(b, w.node); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if err := w.node.Decode(w); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, w)
	}
	return out
}

// events returns the events that trigger the workflow, and the filters of
// each (branches, tags, paths...): on is a name, a list or a map.
func (w *workflow) events() map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	switch w.On.Kind {
	case yaml.ScalarNode:
		out[w.On.Value] = nil
	case yaml.SequenceNode:
		for _, n := range w.On.Content {
			out[n.Value] = nil
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(w.On.Content); i += 2 {
			out[w.On.Content[i].Value] = w.On.Content[i+1]
		}
	}
	return out
}

// TestWorkflowsPassActionlint lints the workflows with actionlint: their
// syntax, expressions, job needs, action inputs and, where shellcheck is
// installed, the scripts of their run steps.
func TestWorkflowsPassActionlint(t *testing.T) {
	shellcheck, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Log("shellcheck is not installed (apt-get install shellcheck): the run scripts go unchecked")
		shellcheck = ""
	}
	linter, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{
		Shellcheck: shellcheck,
		Color:      actionlint.ColorOptionKindNever,
	})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := linter.LintFiles(workflowPaths(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		path, err := filepath.Rel(root, e.Filepath)
		if err != nil {
			path = e.Filepath
		}
		t.Errorf("%s:%d:%d: %s [%s]", path, e.Line, e.Column, e.Message, e.Kind)
	}
}

// TestWorkflowsPinActionsToCommits: every action and reusable workflow of
// another repository is named by a full commit SHA, which its owner cannot
// move as it can a tag, with the release it is as a comment
// ("@<40 hex> # v1.2.3"). Local ones (./) and docker:// images are exempt.
func TestWorkflowsPinActionsToCommits(t *testing.T) {
	pinned := regexp.MustCompile(`^[\w.-]+/[\w./-]+@[0-9a-f]{40}$`)
	release := regexp.MustCompile(`^#\s*v\d+\.\d+\.\d+\b`)
	for _, w := range workflows(t) {
		for _, uses := range usesNodes(w.node) {
			if strings.HasPrefix(uses.Value, "./") || strings.HasPrefix(uses.Value, "docker://") {
				continue
			}
			if !pinned.MatchString(uses.Value) {
				t.Errorf("%s:%d: uses %s, not pinned to a commit SHA", w.path, uses.Line, uses.Value)
			} else if !release.MatchString(uses.LineComment) {
				t.Errorf("%s:%d: uses %s with no # vX.Y.Z comment naming its release", w.path, uses.Line, uses.Value)
			}
		}
	}
}

// usesNodes returns the values of the uses keys of a workflow's jobs and
// their steps. A step that is an alias is found where it is anchored.
func usesNodes(doc *yaml.Node) []*yaml.Node {
	var out []*yaml.Node
	for _, j := range mappingValues(lookup(doc, "jobs")) {
		if u := lookup(j, "uses"); u != nil {
			out = append(out, u)
		}
		if steps := lookup(j, "steps"); steps != nil {
			for _, s := range steps.Content {
				if s.Kind == yaml.AliasNode {
					continue
				}
				if u := lookup(s, "uses"); u != nil {
					out = append(out, u)
				}
			}
		}
	}
	return out
}

// lookup returns the value of key in the mapping n (a document or an
// alias of one), or nil.
func lookup(n *yaml.Node, key string) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// mappingValues returns the values of the mapping n.
func mappingValues(n *yaml.Node) []*yaml.Node {
	var out []*yaml.Node
	if n != nil && n.Kind == yaml.MappingNode {
		for i := 1; i < len(n.Content); i += 2 {
			out = append(out, n.Content[i])
		}
	}
	return out
}

// TestWorkflowsGrantLeastPrivilege: each workflow sets its token's
// permissions at the top, granting nothing to write there; no job gets
// write-all; an OIDC token (id-token: write) goes only to jobs that assume
// an AWS role with it, and packages: write only to jobs that log in to a
// registry.
func TestWorkflowsGrantLeastPrivilege(t *testing.T) {
	for _, w := range workflows(t) {
		if w.Permissions == nil {
			t.Errorf("%s sets no top-level permissions: its jobs would get the repository's default token", w.path)
		}
		for scope, level := range grants(w.Permissions) {
			if level == "write" {
				t.Errorf("%s grants %s: write to every job; grant it to the jobs that need it", w.path, scope)
			}
		}
		for name, j := range w.Jobs {
			g := grants(j.Permissions)
			if g["*"] == "write" {
				t.Errorf("%s: job %s gets write-all", w.path, name)
			}
			if g["id-token"] == "write" && !j.uses("aws-actions/configure-aws-credentials") {
				t.Errorf("%s: job %s gets id-token: write but assumes no AWS role with aws-actions/configure-aws-credentials", w.path, name)
			}
			if g["packages"] == "write" && !j.uses("docker/login-action") {
				t.Errorf("%s: job %s gets packages: write but logs in to no registry", w.path, name)
			}
		}
	}
}

// TestTheCIWorkflowRunsTheTestsOnEveryPushAndPullRequest: a workflow runs
// .ci/run, as CI here does, on every push and pull request, with a Go that
// both modules accept.
func TestTheCIWorkflowRunsTheTestsOnEveryPushAndPullRequest(t *testing.T) {
	ciRun := regexp.MustCompile(`(^|\s)(\./)?\.ci/run(\s|$)`)
	found := false
	for _, w := range workflows(t) {
		for name, j := range w.Jobs {
			if !slices.ContainsFunc(j.Steps, func(s step) bool { return ciRun.MatchString(s.Run) }) {
				continue
			}
			found = true
			events := w.events()
			for _, event := range []string{"push", "pull_request"} {
				filters, ok := events[event]
				if !ok {
					t.Errorf("%s runs .ci/run (job %s), but not on %s", w.path, name, event)
				} else if filters != nil && len(filters.Content) > 0 {
					t.Errorf("%s runs .ci/run on some %s events only (line %d)", w.path, event, filters.Line)
				}
			}
			checkSetupGo(t, w.path, name, j)
		}
	}
	if !found {
		t.Errorf("no workflow under %s runs .ci/run", workflowsDir)
	}
}

// checkSetupGo checks that the Go which job j sets up with actions/setup-go,
// if it does, is at least what each module asks for: setup-go sets
// GOTOOLCHAIN=local, so the go command downloads no newer one.
func checkSetupGo(t *testing.T, path, name string, j job) {
	t.Helper()
	for _, s := range j.Steps {
		if s.action() != "actions/setup-go" {
			continue
		}
		var goVersion string
		switch file, _ := s.With["go-version-file"].(string); {
		case file != "":
			f := readModfile(t, file)
			if f.Toolchain != nil {
				goVersion = strings.TrimPrefix(f.Toolchain.Name, "go")
			} else if f.Go != nil {
				goVersion = f.Go.Version
			}
		default:
			goVersion, _ = s.With["go-version"].(string)
		}
		for _, mod := range []string{"go.mod", "deploy/go.mod"} {
			need := readModfile(t, mod).Go
			if need == nil {
				continue
			}
			if !version.IsValid("go"+goVersion) || version.Compare("go"+goVersion, "go"+need.Version) < 0 {
				t.Errorf("%s: job %s sets up Go %q, but %s needs go %s", path, name, goVersion, mod, need.Version)
			}
		}
	}
}

func readModfile(t *testing.T, path string) *modfile.File {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.ParseLax(path, b, nil)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return f
}

// TestTheReleaseWorkflowPushesEveryServiceImage: the jobs that push images
// build one per service from the Dockerfile's target of that name, for
// amd64 and arm64, passing VERSION and COMMIT, which the binaries print
// (TestTheDockerBuildStampsTheVersionAndCommit).
func TestTheReleaseWorkflowPushesEveryServiceImage(t *testing.T) {
	var want []string
	for name := range services(t) {
		want = append(want, name)
	}
	slices.Sort(want)
	found := false
	for _, w := range workflows(t) {
		for name, j := range w.Jobs {
			for _, s := range j.Steps {
				if s.action() != "docker/build-push-action" {
					continue
				}
				found = true
				at := w.path + ": job " + name
				var matrix []string
				list, _ := j.Strategy.Matrix["service"].([]any)
				for _, v := range list {
					svc, _ := v.(string)
					matrix = append(matrix, svc)
				}
				slices.Sort(matrix)
				if !slices.Equal(matrix, want) {
					t.Errorf("%s builds the services %v, want %v", at, matrix, want)
				}
				with := func(key string) string {
					v, _ := s.With[key].(string)
					return v
				}
				if with("file") != Dockerfile || with("target") != "${{ matrix.service }}" {
					t.Errorf("%s builds target %q of %q, want ${{ matrix.service }} of %s", at, with("target"), with("file"), Dockerfile)
				}
				platforms := strings.FieldsFunc(with("platforms"), func(r rune) bool { return r == ',' || r == '\n' || r == ' ' })
				if !slices.Contains(platforms, "linux/amd64") || !slices.Contains(platforms, "linux/arm64") {
					t.Errorf("%s builds for %v, want linux/amd64 and linux/arm64", at, platforms)
				}
				for _, arg := range []string{"VERSION", "COMMIT"} {
					if !regexp.MustCompile(`(?m)^\s*` + arg + `=\S`).MatchString(with("build-args")) {
						t.Errorf("%s passes no build argument %s", at, arg)
					}
				}
				if s.With["push"] != true {
					t.Errorf("%s does not push", at)
				}
			}
		}
	}
	if !found {
		t.Errorf("no workflow under %s builds the images with docker/build-push-action", workflowsDir)
	}
}
