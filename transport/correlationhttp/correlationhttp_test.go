package correlationhttp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/orderflow/orderflow/internal/correlation"
	"github.com/orderflow/orderflow/transport/correlationhttp"
)

func TestEveryRequestHasAnIDTheCallersIfSane(t *testing.T) {
	var seen string
	h := correlationhttp.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = correlation.FromContext(r.Context())
	}))
	for sent, keep := range map[string]bool{"req-7": true, "": false, "not sane!": false} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if sent != "" {
			r.Header.Set(correlationhttp.Header, sent)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		back := w.Header().Get(correlationhttp.Header)
		if back != seen || !correlation.Valid(seen) || (seen == sent) != keep {
			t.Errorf("sent %q: the handler saw %q, the answer said %q; kept: want %v", sent, seen, back, keep)
		}
	}
}

func TestTheIDTravelsFromClientToServer(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	correlationhttp.ToHTTPRequest(correlation.NewContext(context.Background(), "req-9"), r)
	if have := correlation.FromContext(correlationhttp.FromHTTPRequest(context.Background(), r)); have != "req-9" {
		t.Errorf("want req-9 on the server, have %q", have)
	}
	// A request without one gets a new one, unless its context has one.
	bare := httptest.NewRequest(http.MethodGet, "/", nil)
	if have := correlation.FromContext(correlationhttp.FromHTTPRequest(context.Background(), bare)); !correlation.Valid(have) {
		t.Errorf("want a new id, have %q", have)
	}
	ctx := correlation.NewContext(context.Background(), "req-10")
	if have := correlation.FromContext(correlationhttp.FromHTTPRequest(ctx, bare)); have != "req-10" {
		t.Errorf("want the context's req-10 kept, have %q", have)
	}
}
