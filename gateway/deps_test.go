package gateway_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The gateway speaks HTTP to ordersvc and nothing else: its binary links no
// database or broker driver, and of ordersvc only the domain's vocabulary
// (package order) and its API (package orderapi).
func TestTheGatewayLinksNoDriver(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/orderflow/orderflow/gateway/cmd/gateway").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := []string{
		"go.mongodb.org/", "github.com/redis/", "github.com/FerretDB/", "modernc.org/sqlite",
		"github.com/orderflow/orderflow/internal/docstore", "github.com/orderflow/orderflow/transport/pubsub",
		"github.com/orderflow/orderflow/ordersvc/orderstore", "github.com/orderflow/orderflow/ordersvc/orderevents",
		"github.com/orderflow/orderflow/paymentsvc",
	}
	linked := strings.Fields(string(out))
	for _, pkg := range linked {
		for _, f := range forbidden {
			if strings.HasPrefix(pkg, f) {
				t.Errorf("the gateway links %s", pkg)
			}
		}
		if pkg == "github.com/orderflow/orderflow/ordersvc" {
			t.Errorf("the gateway links ordersvc's process wiring")
		}
	}
	if len(linked) < 10 {
		t.Fatalf("go list printed too little to judge: %q", out)
	}
}
