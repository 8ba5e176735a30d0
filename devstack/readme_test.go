package devstack_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/devstack"
	"github.com/orderflow/orderflow/gateway"
	"github.com/orderflow/orderflow/internal/process"

	"github.com/orderflow/orderflow/ordersvc"
	"github.com/orderflow/orderflow/paymentsvc"
)

// TestREADMEDocumentsEveryFlag keeps the configuration tables of README.md
// true: every flag of every command, with its variable.
func TestREADMEDocumentsEveryFlag(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []struct {
		prefix   string
		register func(*flag.FlagSet)
	}{
		{gateway.EnvPrefix, new(gateway.Config).RegisterFlags},
		{ordersvc.EnvPrefix, new(ordersvc.Config).RegisterFlags},
		{paymentsvc.EnvPrefix, new(paymentsvc.Config).RegisterFlags},
		{"", new(devstack.Config).RegisterFlags},
	} {
		fs := flag.NewFlagSet(cmd.prefix, flag.ContinueOnError)
		cmd.register(fs)
		fs.VisitAll(func(f *flag.Flag) {
			row := "| `-" + f.Name + "` | `" + process.EnvName(cmd.prefix, f.Name) + "` |"
			if !strings.Contains(string(readme), row) {
				t.Errorf("README.md has no row %s", row)
			}
		})
	}
}
