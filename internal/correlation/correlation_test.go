package correlation_test

import (
	"context"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/internal/correlation"
)

func TestAContextCarriesItsID(t *testing.T) {
	ctx := correlation.NewContext(context.Background(), "req-1")
	if have := correlation.FromContext(ctx); have != "req-1" {
		t.Errorf("want req-1, have %q", have)
	}
	if have := correlation.FromContext(context.Background()); have != "" {
		t.Errorf("no id: want \"\", have %q", have)
	}
}

func TestOnlySaneTokensAreCarriedOn(t *testing.T) {
	for id, want := range map[string]bool{
		"req-1": true, "a.b:c_d-e": true, strings.Repeat("x", 128): true, correlation.New(): true,
		"": false, strings.Repeat("x", 129): false, "a b": false, "a\nb": false, "<script>": false, "é": false,
	} {
		if have := correlation.Valid(id); have != want {
			t.Errorf("Valid(%q): want %v, have %v", id, want, have)
		}
	}
	if correlation.New() == correlation.New() {
		t.Error("two new ids are the same")
	}
}
