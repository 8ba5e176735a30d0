package ordersvc_test

import (
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/ordersvc"
)

func TestConfigRefusesWhatCannotWork(t *testing.T) {
	for _, args := range [][]string{
		{"-shutdown.timeout=-5s"},
		{"-shutdown.timeout=0s"},
		{"-http.max-inflight=0"},
		{"-redeliver.interval=0s"},
		{"-redeliver.backoff.min=2s", "-redeliver.backoff.max=1s"},
		{"-claim.ttl=0s"},
		{"-redis.url=redis+cluster://:s3cret@n1:7000/1"},
	} {
		var cfg ordersvc.Config
		fs := flag.NewFlagSet("ordersvc", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		cfg.RegisterFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		flagName := strings.SplitN(strings.TrimPrefix(args[0], "-"), "=", 2)[0]
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), strings.SplitN(flagName, ".", 2)[0]) {
			t.Errorf("%v: want an error naming -%s, have %v", args, flagName, err)
		}
	}
	var cfg ordersvc.Config
	fs := flag.NewFlagSet("ordersvc", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := cfg.Validate(); err != nil {
		t.Errorf("the defaults must work: %v", err)
	}
}
