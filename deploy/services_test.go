package deploy

import (
	"flag"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/orderflow/orderflow/flowsvc"
	"github.com/orderflow/orderflow/gateway"
	"github.com/orderflow/orderflow/internal/process"

	"github.com/orderflow/orderflow/ordersvc"
	"github.com/orderflow/orderflow/paymentsvc"
)

// root is the repository's root, where the deployment files are.
const root = ".."

// service is one of the binaries as a deployment must know it: the
// variables it reads and the port it listens on, both from its own flags.
type service struct {
	name, prefix string
	env          map[string]bool
	port         string
	// optional: the chart runs it only when its values say so (flowsvc,
	// the flow page); compose and the Dockerfile always have it.
	optional bool
}

// goRuntimeEnv are variables every binary reads besides its flags': the Go
// runtime's, and OpenTelemetry's (internal/telemetry).
var goRuntimeEnv = map[string]bool{"GOMEMLIMIT": true, "GOMAXPROCS": true, "OTEL_EXPORTER_OTLP_ENDPOINT": true}

func services(t *testing.T) map[string]service {
	t.Helper()
	out := map[string]service{}
	for _, s := range []struct {
		name, prefix string
		register     func(*flag.FlagSet)
		optional     bool
	}{
		{"gateway", gateway.EnvPrefix, new(gateway.Config).RegisterFlags, false},
		{"ordersvc", ordersvc.EnvPrefix, new(ordersvc.Config).RegisterFlags, false},
		{"paymentsvc", paymentsvc.EnvPrefix, new(paymentsvc.Config).RegisterFlags, false},
		{"flowsvc", flowsvc.EnvPrefix, new(flowsvc.Config).RegisterFlags, true},
	} {
		fs := flag.NewFlagSet(s.name, flag.ContinueOnError)
		s.register(fs)
		svc := service{name: s.name, prefix: s.prefix, env: map[string]bool{}, optional: s.optional}
		for _, name := range process.EnvNames(fs, s.prefix) {
			svc.env[name] = true
		}
		_, port, err := net.SplitHostPort(fs.Lookup("http.addr").DefValue)
		if err != nil {
			t.Fatal(err)
		}
		svc.port = port
		out[s.name] = svc
	}
	return out
}

// deployed reports whether the manifests s run svc: always, unless it is
// optional and they do not have it.
func (s *system) deployed(svc service) bool {
	return !svc.optional || s.workloads[svc.name] != nil
}

// httpAddrVar is the variable that sets a service's -http.addr.
func (s service) httpAddrVar() string {
	return process.EnvName(s.prefix, "http.addr")
}

// initScriptEnv lists the variables the MongoDB init script reads.
func initScriptEnv(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, ChartDir, "files", "mongo-init.js"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`process\.env\.([A-Za-z0-9_]+)`).FindAllStringSubmatch(string(b), -1) {
		names = append(names, m[1])
	}
	if len(names) == 0 {
		t.Fatal("the MongoDB init script reads no variables")
	}
	return names
}
