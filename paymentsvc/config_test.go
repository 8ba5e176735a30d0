package paymentsvc_test

import (
	"flag"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/paymentsvc"
)

// parse returns the Config that args give.
func parse(t *testing.T, args ...string) paymentsvc.Config {
	t.Helper()
	var c paymentsvc.Config
	fs := flag.NewFlagSet("paymentsvc", flag.ContinueOnError)
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

func TestValidateRejectsDurationsThatAreNotPositive(t *testing.T) {
	for _, arg := range []string{
		"-shutdown.timeout=-5s", "-shutdown.timeout=0",
		"-claim.ttl=0", "-claim.ttl=-1m",
		"-charge.lease=0", "-charge.lease=-30s",
	} {
		err := parse(t, arg).Validate()
		if name, _, _ := strings.Cut(arg, "="); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: want an error naming %s, have %v", arg, name, err)
		}
	}
}

func TestValidateRejectsARedisURLThatNamesNoRedis(t *testing.T) {
	err := parse(t, "-redis.url=redis+sentinel://:s3cret@s1:26379").Validate()
	if err == nil || !strings.Contains(err.Error(), "-redis.url") || !strings.Contains(err.Error(), "master name") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("want an error naming -redis.url and the missing master name, without the password, have %v", err)
	}
}

func TestTheFlagsKeepTheirNamesAndDefaults(t *testing.T) {
	fs := flag.NewFlagSet("paymentsvc", flag.ContinueOnError)
	new(paymentsvc.Config).RegisterFlags(fs)
	want := map[string]string{
		"http.addr":        ":7002",
		"mongo.database":   "payments",
		"claim.ttl":        "10m0s",
		"charge.lease":     "30s",
		"shutdown.timeout": "10s",
	}
	for name, def := range want {
		if f := fs.Lookup(name); f == nil || f.DefValue != def {
			t.Errorf("want -%s with default %q, have %+v", name, def, f)
		}
	}
	if paymentsvc.EnvPrefix != "PAYMENTSVC" {
		t.Errorf("want the variables named PAYMENTSVC_..., have %s_...", paymentsvc.EnvPrefix)
	}
}
