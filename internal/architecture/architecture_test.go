package architecture_test

import (
	"bufio"
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/orderflow/orderflow"

// goList runs go list with args from the module's root and returns its
// output's lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = root(t)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list %v: %v\n%s", args, err, stderr)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// root is the module's root folder.
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// The domain packages are the use cases in their own words: they link no
// HTTP, no OpenTelemetry SDK, no transport of the module and no driver.
func TestTheDomainLinksNoHTTPTelemetryTransportOrDriver(t *testing.T) {
	forbidden := []string{
		"net/http", "go.opentelemetry.io/", module + "/transport/", module + "/internal/telemetry",
		"go.mongodb.org/", "github.com/redis/", "github.com/FerretDB/", "modernc.org/",
	}
	for _, domain := range []string{"ordersvc/order", "paymentsvc/payment", "flowsvc/flow"} {
		deps := goList(t, "-deps", module+"/"+domain)
		if len(deps) < 5 {
			t.Fatalf("%s: go list printed too little to judge: %q", domain, deps)
		}
		for _, dep := range deps {
			for _, f := range forbidden {
				if dep == f || strings.HasPrefix(dep, f) {
					t.Errorf("%s links %s", domain, dep)
				}
			}
		}
	}
}

// The embedded FerretDB takes minutes to build with the race detector and
// is no unit's business: only devstack, which starts it, and its tests
// link it.
func TestNoTestBinaryButDevstacksLinksFerretDB(t *testing.T) {
	lines := goList(t, "-test", "-f", "{{.ImportPath}}\t{{join .Deps \" \"}}", "./...")
	if len(lines) < 20 {
		t.Fatalf("go list printed too little to judge: %d packages", len(lines))
	}
	for _, line := range lines {
		pkg, deps, _ := strings.Cut(line, "\t")
		if !strings.HasSuffix(pkg, ".test") && !strings.Contains(pkg, " [") {
			continue // a package as built for its binary, not a test
		}
		under := strings.TrimPrefix(strings.Fields(pkg)[0], module+"/")
		if under == "devstack" || strings.HasPrefix(under, "devstack/") || under == "devstack.test" || strings.HasPrefix(under, "devstack_test") {
			continue
		}
		if strings.Contains(" "+deps, " github.com/FerretDB/") {
			t.Errorf("the test binary of %s links FerretDB", pkg)
		}
	}
}

// No package keeps state in its variables: a package-level variable is a
// constant the language cannot declare (a table, a sentinel error, a
// compiled pattern), never written after its declaration, never a lock or
// an atomic; and no package has an init. State lives in what main builds
// and passes on.
func TestNoPackageKeepsStateInItsVariables(t *testing.T) {
	dirs := map[string][]string{} // folder -> its non-test Go files
	err := filepath.WalkDir(root(t), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && p != root(t) && (strings.HasPrefix(name, ".") || name == "deploy" || name == "testdata" || name == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			dirs[filepath.Dir(p)] = append(dirs[filepath.Dir(p)], p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 20 {
		t.Fatalf("found too few packages to judge: %d", len(dirs))
	}
	for dir, files := range dirs {
		rel, _ := filepath.Rel(root(t), dir)
		if rel == filepath.Join("gateway", "docs") { // swag's generated registry
			continue
		}
		for _, problem := range packageState(t, files) {
			t.Errorf("%s: %s", rel, problem)
		}
	}
}

// packageState returns what keeps state in the package of files.
func packageState(t *testing.T, files []string) []string {
	fset := token.NewFileSet()
	var parsed []*ast.File
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, file)
	}
	// Only the package's own names are resolved: imports are stand-ins.
	info := &types.Info{Uses: map[*ast.Ident]types.Object{}, Defs: map[*ast.Ident]types.Object{}}
	conf := types.Config{Importer: standIns{}, Error: func(error) {}}
	pkg, _ := conf.Check(parsed[0].Name.Name, fset, parsed, info)

	var problems []string
	at := func(n ast.Node) string {
		p := fset.Position(n.Pos())
		return filepath.Base(p.Filename) + ":" + strconv.Itoa(p.Line)
	}
	isPackageVar := func(e ast.Expr) (string, bool) {
		for {
			switch x := e.(type) {
			case *ast.IndexExpr:
				e = x.X
			case *ast.SelectorExpr:
				e = x.X
			case *ast.StarExpr:
				e = x.X
			case *ast.ParenExpr:
				e = x.X
			case *ast.Ident:
				obj := info.Uses[x]
				v, ok := obj.(*types.Var)
				return x.Name, ok && pkg != nil && v.Parent() == pkg.Scope()
			default:
				return "", false
			}
		}
	}
	for _, file := range parsed {
		for _, d := range file.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Name.Name == "init" && d.Recv == nil {
					problems = append(problems, at(d)+": func init")
				}
			case *ast.GenDecl:
				if d.Tok != token.VAR {
					continue
				}
				for _, s := range d.Specs {
					vs := s.(*ast.ValueSpec)
					if holdsState(vs.Type) {
						problems = append(problems, at(vs)+": "+vs.Names[0].Name+" is a lock or an atomic")
					}
					for _, v := range vs.Values {
						if call, ok := v.(*ast.CallExpr); ok && isGlobalProvider(call) {
							problems = append(problems, at(vs)+": "+vs.Names[0].Name+" is taken from a process-wide provider")
						}
					}
				}
			}
		}
		ast.Inspect(file, func(n ast.Node) bool {
			var targets []ast.Expr
			switch s := n.(type) {
			case *ast.AssignStmt:
				if s.Tok != token.DEFINE {
					targets = s.Lhs
				}
			case *ast.IncDecStmt:
				targets = []ast.Expr{s.X}
			case *ast.UnaryExpr: // &v lets anything write it
				if s.Op == token.AND {
					targets = []ast.Expr{s.X}
				}
			}
			for _, e := range targets {
				if name, ok := isPackageVar(e); ok {
					problems = append(problems, at(n)+": "+name+" is written after its declaration")
				}
			}
			return true
		})
	}
	return problems
}

// holdsState reports whether a declared type is a lock, a wait group or
// an atomic.
func holdsState(e ast.Expr) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	return ok && (x.Name == "sync" || x.Name == "atomic")
}

// isGlobalProvider reports a call that hands out something of a
// process-wide registry, such as otel.Tracer.
func isGlobalProvider(call *ast.CallExpr) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	return ok && ((x.Name == "otel" || x.Name == "telemetry") && sel.Sel.Name == "Tracer")
}

// standIns imports every package as an empty one: enough to resolve the
// package's own names.
type standIns struct{}

func (standIns) Import(p string) (*types.Package, error) {
	pkg := types.NewPackage(p, path.Base(p))
	pkg.MarkComplete()
	return pkg, nil
}

// go-redis reports its trouble through a process-wide logger: set it once
// per process, from main, never from a library a process may call twice
// (devstack runs four services in one).
func TestGoRedisLoggerIsSetOnlyByMains(t *testing.T) {
	for _, line := range goList(t, "-f", "{{.Dir}}\t{{.Name}}\t{{join .GoFiles \" \"}}", "./...") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			continue
		}
		dir, name := f[0], f[1]
		for _, file := range strings.Fields(f[2]) {
			src, err := os.ReadFile(filepath.Join(dir, file))
			if err != nil {
				t.Fatal(err)
			}
			if name != "main" && bytes.Contains(src, []byte("redis.SetLogger(")) && !strings.HasSuffix(dir, filepath.Join("transport", "pubsub")) {
				t.Errorf("%s sets go-redis's logger; only transport/pubsub's RouteLogs may, called from a main", filepath.Join(dir, file))
			}
			if name != "main" && bytes.Contains(src, []byte("pubsub.RouteLogs(")) {
				t.Errorf("%s calls pubsub.RouteLogs, which only a main may call, once", filepath.Join(dir, file))
			}
		}
	}
}
