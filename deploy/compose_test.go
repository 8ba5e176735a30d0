package deploy

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// loadCompose loads the compose file as docker compose does, with the
// variables of envFiles.
func loadCompose(t *testing.T, envFiles ...string) (*types.Project, error) {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, ComposeFile)},
		cli.WithWorkingDirectory(root), cli.WithEnvFiles(envFiles...), cli.WithDotEnv)
	if err != nil {
		t.Fatal(err)
	}
	return opts.LoadProject(context.Background())
}

// composeProject loads the compose file with the variables of .env.example,
// each given a value of its own, so that two settings are equal only when
// they come from the same variable.
func composeProject(t *testing.T) *types.Project {
	t.Helper()
	example, err := os.ReadFile(filepath.Join(root, ComposeEnv))
	if err != nil {
		t.Fatal(err)
	}
	var env strings.Builder
	for _, line := range strings.Split(string(example), "\n") {
		if name, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			fmt.Fprintf(&env, "%s=value-of-%s\n", name, name)
		}
	}
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte(env.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := loadCompose(t, path)
	if err != nil {
		t.Fatalf("%s with the variables of %s: %v", ComposeFile, ComposeEnv, err)
	}
	return p
}

func TestComposeWithoutCredentialsSaysWhereToSetThem(t *testing.T) {
	empty := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := loadCompose(t, empty)
	if err == nil || !strings.Contains(err.Error(), ".env.example") {
		t.Errorf("want an error pointing at .env.example, have %v", err)
	}
}

func TestComposeServicesStartInOrderOnceHealthy(t *testing.T) {
	p := composeProject(t)
	for name, s := range p.Services {
		// Jaeger's image has no shell or HTTP client to check itself with;
		// nothing waits for it (without it, spans are dropped).
		if name == "jaeger" {
			continue
		}
		if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) < 2 {
			t.Errorf("%s has no health check", name)
		}
		for dep, d := range s.DependsOn {
			if d.Condition != types.ServiceConditionHealthy {
				t.Errorf("%s waits for %s to be %q, not healthy", name, dep, d.Condition)
			}
		}
	}
	// Each service waits for what it connects to.
	for _, want := range [][2]string{{"gateway", "ordersvc"}, {"ordersvc", "mongo"}, {"ordersvc", "redis"}, {"paymentsvc", "mongo"}, {"paymentsvc", "redis"},
		{"flowsvc", "redis"}, {"flowsvc", "gateway"}} {
		if _, ok := p.Services[want[0]].DependsOn[want[1]]; !ok {
			t.Errorf("%s does not wait for %s", want[0], want[1])
		}
	}
}

// TestComposePublishesOnlyTheGatewayAndTheFlowPage: the API on 7000, the
// flow page on 7003 and Jaeger's UI on 16686, nothing else.
func TestComposePublishesOnlyTheGatewayAndTheFlowPage(t *testing.T) {
	p := composeProject(t)
	published := map[string]string{"gateway": "7000", "flowsvc": "7003", "jaeger": "16686"}
	for name, s := range p.Services {
		switch port, ok := published[name]; {
		case ok:
			if len(s.Ports) != 1 || s.Ports[0].Published != port || strconv.Itoa(int(s.Ports[0].Target)) != port {
				t.Errorf("%s publishes %+v, want %s:%s", name, s.Ports, port, port)
			}
		case len(s.Ports) > 0:
			t.Errorf("%s is published on the host: %+v", name, s.Ports)
		}
	}
}

// TestComposeNamesOnlyWhatExists: every variable of a service is one its
// binary reads, every host in an environment is a compose service listening
// on that port, and each health check runs the image's own binary.
func TestComposeNamesOnlyWhatExists(t *testing.T) {
	p := composeProject(t)
	stages := dockerStages(t)
	for name, svc := range services(t) {
		s, ok := p.Services[name]
		if !ok {
			t.Errorf("no compose service %s", name)
			continue
		}
		for v := range s.Environment {
			if !svc.env[v] && !goRuntimeEnv[v] {
				t.Errorf("%s sets %s, which %s does not read", name, v, name)
			}
		}
		if addr := s.Environment[svc.httpAddrVar()]; addr == nil || *addr != ":"+svc.port || !slices.Contains(composePorts(s), svc.port) {
			t.Errorf("%s listens on %v, want :%s, exposed", name, addr, svc.port)
		}
		if s.Build == nil || s.Build.Dockerfile != Dockerfile || stages[s.Build.Target] == nil {
			t.Errorf("%s is not built from a stage of %s: %+v", name, Dockerfile, s.Build)
		} else if bin := stages[s.Build.Target].entrypoint; s.HealthCheck == nil || s.HealthCheck.Test[1] != bin {
			t.Errorf("%s's health check does not run its binary %s", name, bin)
		}
	}
	for name, s := range p.Services {
		for v, value := range s.Environment {
			if value == nil {
				t.Errorf("%s: %s has no value", name, v)
				continue
			}
			u, err := url.Parse(*value)
			if err != nil || u.Host == "" {
				continue
			}
			target, ok := p.Services[u.Hostname()]
			if !ok {
				t.Errorf("%s: %s names host %s, which is no compose service", name, v, u.Hostname())
			} else if !slices.Contains(composePorts(target), u.Port()) {
				t.Errorf("%s: %s names port %s, which %s does not expose (%v)", name, v, u.Port(), u.Hostname(), composePorts(target))
			}
		}
	}
}

// TestComposeCredentialsAgree: MongoDB creates each service's user from
// the very values the service logs in with, and Redis wants the password
// the services give.
func TestComposeCredentialsAgree(t *testing.T) {
	p := composeProject(t)
	mongo, redis := p.Services["mongo"], p.Services["redis"]
	for _, v := range initScriptEnv(t) {
		if mongo.Environment[v] == nil {
			t.Errorf("the MongoDB init script reads %s, which the mongo service does not set", v)
		}
	}
	for name := range services(t) {
		s := p.Services[name]
		for v, value := range s.Environment {
			if theirs, ok := mongo.Environment[v]; ok && *theirs != *value {
				t.Errorf("%s and mongo disagree on %s", name, v)
			}
			if strings.HasSuffix(v, "_REDIS_PASSWORD") && *value != *redis.Environment["REDIS_PASSWORD"] {
				t.Errorf("%s's %s is not Redis's password", name, v)
			}
		}
	}
	mounted := false
	for _, v := range mongo.Volumes {
		if v.Type == types.VolumeTypeBind && strings.HasPrefix(v.Target, "/docker-entrypoint-initdb.d/") {
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("mongo mounts %s: %v", v.Source, err)
			}
			mounted = true
		}
	}
	if !mounted {
		t.Error("mongo mounts no init script")
	}
}

// composePorts lists the container ports a compose service exposes to the
// others.
func composePorts(s types.ServiceConfig) []string {
	ports := slices.Clone(s.Expose)
	for _, p := range s.Ports {
		ports = append(ports, strconv.Itoa(int(p.Target)))
	}
	return ports
}

// With the external override, every service takes MongoDB and Redis from
// MONGO_URI and REDIS_URL, nothing waits for or starts the bundled ones, and
// the rest of the stack is as before.
func TestComposeRunsOnStoresOfOnesOwn(t *testing.T) {
	example, err := os.ReadFile(filepath.Join(root, ComposeEnv))
	if err != nil {
		t.Fatal(err)
	}
	env := string(example) + "\nMONGO_URI=mongodb+srv://cluster0.example.net/?authSource=admin\nREDIS_URL=redis+sentinel://s1:26379,s2:26379/main\n"
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, ComposeFile), filepath.Join(root, ComposeExternal)},
		cli.WithWorkingDirectory(root), cli.WithEnvFiles(path), cli.WithDotEnv)
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("%s with %s: %v", ComposeFile, ComposeExternal, err)
	}
	for _, bundled := range []string{"mongo", "redis"} {
		if _, ok := p.Services[bundled]; ok {
			t.Errorf("the bundled %s still starts", bundled)
		}
	}
	for name, s := range p.Services {
		for dep := range s.DependsOn {
			if dep == "mongo" || dep == "redis" {
				t.Errorf("%s still waits for the bundled %s", name, dep)
			}
		}
		for v, value := range s.Environment {
			switch {
			case strings.HasSuffix(v, "_MONGO_URI") && (value == nil || *value != "mongodb+srv://cluster0.example.net/?authSource=admin"):
				t.Errorf("%s: %s is %v, want MONGO_URI's", name, v, value)
			case strings.HasSuffix(v, "_REDIS_URL") && (value == nil || *value != "redis+sentinel://s1:26379,s2:26379/main"):
				t.Errorf("%s: %s is %v, want REDIS_URL's", name, v, value)
			}
		}
	}
	for _, name := range []string{"gateway", "ordersvc", "paymentsvc", "flowsvc"} {
		if _, ok := p.Services[name]; !ok {
			t.Errorf("no %s", name)
		}
	}
	if dep, ok := p.Services["gateway"].DependsOn["ordersvc"]; !ok || dep.Condition != "service_healthy" {
		t.Errorf("the gateway no longer waits for ordersvc: %+v", p.Services["gateway"].DependsOn)
	}

	// Without the URLs, compose says which to set.
	opts, _ = cli.NewProjectOptions([]string{filepath.Join(root, ComposeFile), filepath.Join(root, ComposeExternal)},
		cli.WithWorkingDirectory(root), cli.WithEnvFiles(filepath.Join(root, ComposeEnv)), cli.WithDotEnv)
	if _, err := opts.LoadProject(context.Background()); err == nil || !strings.Contains(err.Error(), "MONGO_URI") && !strings.Contains(err.Error(), "REDIS_URL") {
		t.Errorf("want an error naming MONGO_URI or REDIS_URL, have %v", err)
	}
}
