package flowsvc_test

import (
	"flag"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/flowsvc"
)

// parse returns the Config that args give.
func parse(t *testing.T, args ...string) flowsvc.Config {
	t.Helper()
	var c flowsvc.Config
	fs := flag.NewFlagSet("flowsvc", flag.ContinueOnError)
	c.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTheDefaultConfigurationIsValid(t *testing.T) {
	if err := parse(t).Validate(); err != nil {
		t.Error(err)
	}
}

func TestValidateRejectsWhatCannotWork(t *testing.T) {
	for _, arg := range []string{
		"-gateway.url=127.0.0.1:7000", "-gateway.url=ftp://gateway", "-gateway.url=http://",
		"-history=0", "-history=-1", "-history=1000000",
		"-shutdown.timeout=0", "-shutdown.timeout=-1s",
		"-redis.url=redis+sentinel://s1:26379", "-redis.url=http://redis:6379",
	} {
		err := parse(t, arg).Validate()
		if name, _, _ := strings.Cut(arg, "="); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: want an error naming %s, have %v", arg, name, err)
		}
	}
}

func TestTheFlagsKeepTheirNamesAndDefaults(t *testing.T) {
	fs := flag.NewFlagSet("flowsvc", flag.ContinueOnError)
	new(flowsvc.Config).RegisterFlags(fs)
	want := map[string]string{
		"http.addr":               ":7003",
		"redis.url":               "redis://127.0.0.1:6379/0",
		"redis.password":          "",
		"redis.sentinel.password": "",
		"redis.tls.ca":            "",
		"gateway.url":             "http://127.0.0.1:7000",
		"history":                 "200",
		"debug.addr":              "",
		"shutdown.timeout":        "10s",
	}
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n != len(want) {
		t.Errorf("want %d flags, have %d", len(want), n)
	}
	for name, def := range want {
		if f := fs.Lookup(name); f == nil || f.DefValue != def {
			t.Errorf("want -%s with default %q, have %+v", name, def, f)
		}
	}
	if flowsvc.EnvPrefix != "FLOWSVC" {
		t.Errorf("want the variables named FLOWSVC_..., have %s_...", flowsvc.EnvPrefix)
	}
}
