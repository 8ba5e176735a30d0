package gateway

import (
	"context"
	"flag"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestTheTokenCommandSignsInItsUser(t *testing.T) {
	const secret = "a-secret-of-at-least-32-bytes-for-tests"
	t.Setenv("GATEWAY_AUTH_HS256_SECRET", secret)
	var out, errs strings.Builder
	if code := runToken(flag.NewFlagSet("gateway", flag.ContinueOnError), EnvPrefix, []string{"-sub", "u1", "-ttl", "5m"}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	auth, err := NewAuthenticator(context.Background(), AuthConfig{HS256Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/orders/u1", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(out.String()))
	if sub, err := auth.Subject(req); err != nil || sub != "u1" {
		t.Errorf("want the token to sign in u1, have %q, %v", sub, err)
	}
}

func TestTheTokenCommandNeedsASecretAndAUser(t *testing.T) {
	for _, tc := range []struct {
		secret string
		args   []string
		want   string
	}{
		{"", []string{"-sub", "u1"}, "GATEWAY_AUTH_HS256_SECRET"},
		{"short", []string{"-sub", "u1"}, "at least 32 bytes"},
		{strings.Repeat("s", 32), []string{"-sub", "no spaces"}, "-sub"},
	} {
		t.Setenv("GATEWAY_AUTH_HS256_SECRET", tc.secret)
		var out, errs strings.Builder
		if code := runToken(flag.NewFlagSet("gateway", flag.ContinueOnError), EnvPrefix, tc.args, &out, &errs); code != 1 || !strings.Contains(errs.String(), tc.want) {
			t.Errorf("%v with secret %q: want exit 1 naming %s, have %d %q", tc.args, tc.secret, tc.want, code, errs.String())
		}
	}
}
