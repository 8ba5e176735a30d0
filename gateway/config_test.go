package gateway

import (
	"flag"
	"io"
	"testing"
)

func TestConfigRefusesWhatCannotWork(t *testing.T) {
	for _, args := range [][]string{{"-shutdown.timeout=-5s"}, {"-ordersvc.timeout=0s"}} {
		var cfg Config
		fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		cfg.RegisterFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		if err := cfg.Validate(); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
	var cfg Config
	cfg.RegisterFlags(flag.NewFlagSet("gateway", flag.ContinueOnError))
	if err := cfg.Validate(); err != nil {
		t.Errorf("the defaults must work: %v", err)
	}
}
