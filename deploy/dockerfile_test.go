package deploy

import (
	"debug/elf"
	"fmt"
	"go/version"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"golang.org/x/mod/modfile"
	"mvdan.cc/sh/v3/shell"
)

// stage is what the tests need of a Dockerfile stage.
type stage struct {
	*instructions.Stage
	entrypoint string // the binary ENTRYPOINT runs
	user       string // the USER in force, inherited from the stage it is built on
	expose     []string
	health     []string
}

func dockerStages(t *testing.T) map[string]*stage {
	t.Helper()
	f, err := os.Open(filepath.Join(root, Dockerfile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ast, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("%s: %v", Dockerfile, err)
	}
	parsed, _, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		t.Fatalf("%s: %v", Dockerfile, err)
	}
	stages := map[string]*stage{}
	for i := range parsed {
		s := &stage{Stage: &parsed[i]}
		if base := stages[s.BaseName]; base != nil {
			s.user = base.user
		}
		for _, cmd := range s.Commands {
			switch c := cmd.(type) {
			case *instructions.UserCommand:
				s.user = c.User
			case *instructions.EntrypointCommand:
				if !c.PrependShell && len(c.CmdLine) > 0 {
					s.entrypoint = c.CmdLine[0]
				}
			case *instructions.ExposeCommand:
				s.expose = append(s.expose, c.Ports...)
			case *instructions.HealthCheckCommand:
				s.health = c.Health.Test
			}
		}
		stages[s.Name] = s
	}
	return stages
}

// TestEveryServiceHasAnImageThatRunsItAsNonRoot: one target per service,
// on pinned base images (or scratch), running the service's binary as a non-root user,
// exposing the port the service listens on and checking its own health.
func TestEveryServiceHasAnImageThatRunsItAsNonRoot(t *testing.T) {
	stages := dockerStages(t)
	pinned := regexp.MustCompile(`^[^:@]+(:[^:@]*[0-9][^:@]*)?(@sha256:[0-9a-f]{64})?$`)
	for _, s := range stages {
		if stages[s.BaseName] == nil && s.BaseName != "scratch" && (!pinned.MatchString(s.BaseName) || !strings.ContainsAny(s.BaseName, ":@")) {
			t.Errorf("stage %s is built on %s, which names no version", s.Name, s.BaseName)
		}
	}
	for name, svc := range services(t) {
		s := stages[name]
		if s == nil {
			t.Errorf("%s has no stage named %s", Dockerfile, name)
			continue
		}
		if s.entrypoint != "/usr/local/bin/"+name {
			t.Errorf("%s runs %q, want /usr/local/bin/%s", name, s.entrypoint, name)
		}
		uid, _, _ := strings.Cut(s.user, ":")
		if n, err := strconv.Atoi(uid); err != nil || n == 0 {
			t.Errorf("%s runs as %q, want a numeric non-root user (Kubernetes checks runAsNonRoot by number)", name, s.user)
		}
		if !slices.Equal(s.expose, []string{svc.port}) {
			t.Errorf("%s exposes %v, want %s", name, s.expose, svc.port)
		}
		if !slices.Equal(s.health, []string{"CMD", s.entrypoint, "probe", "/readyz"}) {
			t.Errorf("%s's health check is %v", name, s.health)
		}
	}
}

// TestTheImageBuildCompilesHere runs the build stage's go build, with its
// variables and flags, on exactly the files that the build context (after
// .dockerignore) and the stage's COPYs give it. The binaries must be static
// and stripped, and the builder's Go at least the module's.
func TestTheImageBuildCompilesHere(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: compiles the services")
	}
	build := dockerStages(t)["build"]
	if build == nil {
		t.Fatalf("%s has no build stage", Dockerfile)
	}
	goVersion := regexp.MustCompile(`^golang:(\d+\.\d+(\.\d+)?)`).FindStringSubmatch(build.BaseName)
	if goVersion == nil {
		t.Fatalf("the build stage is on %s, not a versioned golang image", build.BaseName)
	}
	if mod := moduleGoVersion(t); version.Compare("go"+goVersion[1], "go"+mod) < 0 {
		t.Errorf("the builder has Go %s, the module needs %s", goVersion[1], mod)
	}

	src, ignored := t.TempDir(), dockerignore(t)
	for _, cmd := range build.Commands {
		if c, ok := cmd.(*instructions.CopyCommand); ok {
			copyIntoContext(t, ignored, c.SourcePaths, src, c.DestPath)
		}
	}
	args, env, _ := goBuild(t, build)
	if env["CGO_ENABLED"] != "0" {
		t.Errorf("the build stage sets CGO_ENABLED=%q, want 0", env["CGO_ENABLED"])
	}
	if flags := ldflags(args); !slices.Contains(args, "-trimpath") || !slices.Contains(flags, "-s") || !slices.Contains(flags, "-w") {
		t.Fatalf("the build runs %q, want go build -trimpath -ldflags=\"-s -w ...\"", args)
	}
	out := t.TempDir() + "/"
	if i := slices.Index(args, "-o"); i < 0 || i+1 >= len(args) {
		t.Fatalf("the build runs %q, with no -o", args)
	} else {
		args[i+1] = out
	}

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = src
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, b)
	}
	for name := range services(t) {
		f, err := elf.Open(filepath.Join(out, name))
		if err != nil {
			t.Errorf("%s was not built: %v", name, err)
			continue
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s is linked dynamically", name)
			}
		}
		if f.Section(".symtab") != nil || f.Section(".debug_info") != nil {
			t.Errorf("%s keeps its symbol table or debug info", name)
		}
		f.Close()
		b, err := exec.Command(filepath.Join(out, name), "-version").Output()
		if want := fmt.Sprintf("%s %s (commit %s, ", name, imageBuildArgs["VERSION"], imageBuildArgs["COMMIT"]); err != nil || !strings.HasPrefix(string(b), want) {
			t.Errorf("%s -version prints %q (%v), want %s...", name, b, err, want)
		}
	}
}

// processPkg is the package whose variables version and commit the image
// build sets at link time.
const processPkg = "github.com/orderflow/orderflow/internal/process"

// imageBuildArgs are the --build-arg values the tests build the images
// with, as the release workflow passes them.
var imageBuildArgs = map[string]string{
	"VERSION": "v1.2.3-test",
	"COMMIT":  "0123456789abcdef0123456789abcdef01234567",
}

// TestTheDockerBuildStampsTheVersionAndCommit: the build stage takes the
// build arguments VERSION and COMMIT and links them into package process,
// whose Version a service's -version prints; the build context has no .git
// for Go to read the commit from.
func TestTheDockerBuildStampsTheVersionAndCommit(t *testing.T) {
	build := dockerStages(t)["build"]
	if build == nil {
		t.Fatalf("%s has no build stage", Dockerfile)
	}
	args, _, declared := goBuild(t, build)
	vars := linkerVars(ldflags(args))
	for arg, name := range map[string]string{"VERSION": processPkg + ".version", "COMMIT": processPkg + ".commit"} {
		if !slices.Contains(declared, arg) {
			t.Errorf("the build stage declares no ARG %s before its go build", arg)
		}
		if have := vars[name]; have != imageBuildArgs[arg] {
			t.Errorf("with --build-arg %s=%s, the go build sets %s to %q; want -ldflags \"-X %[3]s=${%[1]s}\"", arg, imageBuildArgs[arg], name, have)
		}
	}
}

// goBuild returns the arguments of the build stage's RUN go build as its
// shell expands them, the variables it runs with (the stage's ENV, and its
// ARGs from imageBuildArgs or their defaults) and the ARGs declared before
// it.
func goBuild(t *testing.T, build *stage) (args []string, env map[string]string, declared []string) {
	t.Helper()
	env = map[string]string{}
	var run *instructions.RunCommand
	for _, cmd := range build.Commands {
		switch c := cmd.(type) {
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				v, err := shell.Expand(kv.Value, func(name string) string { return env[name] })
				if err != nil {
					t.Fatalf("ENV %s=%s: %v", kv.Key, kv.Value, err)
				}
				env[kv.Key] = v
			}
		case *instructions.ArgCommand:
			for _, kv := range c.Args {
				declared = append(declared, kv.Key)
				if v, ok := imageBuildArgs[kv.Key]; ok {
					env[kv.Key] = v
				} else if kv.Value != nil {
					env[kv.Key] = *kv.Value
				}
			}
		case *instructions.RunCommand:
			if len(c.CmdLine) == 1 && strings.Contains(c.CmdLine[0], "go build") {
				run = c
			}
		}
		if run != nil {
			break
		}
	}
	if run == nil {
		t.Fatal("the build stage has no RUN go build")
	}
	args, err := shell.Fields(run.CmdLine[0], func(name string) string { return env[name] })
	if err != nil {
		t.Fatal(err)
	}
	if len(args) < 2 || args[0] != "go" || args[1] != "build" {
		t.Fatalf("the build stage runs %q, want go build", args)
	}
	return args, env, declared
}

// ldflags returns the fields of the -ldflags in a go build's args.
func ldflags(args []string) []string {
	for i, a := range args {
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name != "ldflags" || !strings.HasPrefix(a, "-") {
			continue
		}
		if !hasValue && i+1 < len(args) {
			value = args[i+1]
		}
		return strings.Fields(value)
	}
	return nil
}

// linkerVars returns the string variables that the linker flags set with
// -X, as import path and name to value.
func linkerVars(flags []string) map[string]string {
	vars := map[string]string{}
	for i := 0; i < len(flags); i++ {
		var def string
		switch f := flags[i]; {
		case f == "-X" && i+1 < len(flags):
			i++
			def = flags[i]
		case strings.HasPrefix(f, "-X="):
			def = strings.TrimPrefix(f, "-X=")
		default:
			continue
		}
		if name, value, ok := strings.Cut(def, "="); ok {
			vars[name] = value
		}
	}
	return vars
}

// dockerignore reads what .dockerignore keeps out of the build context.
func dockerignore(t *testing.T) *patternmatcher.PatternMatcher {
	t.Helper()
	f, err := os.Open(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	return pm
}

// copyIntoContext copies sources from the repository to dest in workdir
// as a COPY does, leaving out what the build context leaves out.
func copyIntoContext(t *testing.T, ignored *patternmatcher.PatternMatcher, sources []string, workdir, dest string) {
	t.Helper()
	destDir := filepath.Join(workdir, dest)
	intoDir := strings.HasSuffix(dest, "/") || len(sources) > 1
	for _, s := range sources {
		base := filepath.Join(root, s)
		err := filepath.WalkDir(base, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			if skip, err := ignored.MatchesOrParentMatches(rel); err != nil || skip {
				return err
			}
			var target string
			switch {
			case path != base: // a file of a copied folder
				within, _ := filepath.Rel(base, path)
				target = filepath.Join(destDir, within)
			case intoDir:
				target = filepath.Join(destDir, filepath.Base(path))
			default:
				target = destDir
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			return os.WriteFile(target, b, 0o644)
		})
		if err != nil {
			t.Fatalf("COPY %s: %v", s, err)
		}
	}
}

func moduleGoVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.ParseLax("go.mod", b, nil)
	if err != nil || f.Go == nil {
		t.Fatalf("go.mod: %v", err)
	}
	return f.Go.Version
}

// TestTheImageBuildCrossCompiles: the build stage runs on the builder's
// platform and compiles for the target's, so that the release's arm64
// images build without an emulator.
func TestTheImageBuildCrossCompiles(t *testing.T) {
	build := dockerStages(t)["build"]
	if build == nil {
		t.Fatalf("%s has no build stage", Dockerfile)
	}
	if build.Platform != "$BUILDPLATFORM" {
		t.Errorf("the build stage runs on %q, want --platform=$BUILDPLATFORM", build.Platform)
	}
	want := map[string]string{"GOOS": "$TARGETOS", "GOARCH": "$TARGETARCH"}
	for _, cmd := range build.Commands {
		if c, ok := cmd.(*instructions.EnvCommand); ok {
			for _, kv := range c.Env {
				if want[kv.Key] == kv.Value {
					delete(want, kv.Key)
				}
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("the build stage does not set %v: it compiles for the builder's platform", want)
	}
}
