package httpserver

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestProbeSucceedsOnlyWhenThePathAnswers200(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.Error(w, `{"status":"unavailable"}`, http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	// A -http.addr without a host, or with 0.0.0.0, is probed over loopback.
	for _, addr := range []string{":" + port, "0.0.0.0:" + port, "127.0.0.1:" + port} {
		if err := Probe(context.Background(), addr, "/healthz"); err != nil {
			t.Errorf("%s: want success, have %v", addr, err)
		}
	}
	err := Probe(context.Background(), ":"+port, "readyz")
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("want an error naming the 503, have %v", err)
	}
}

func TestProbeFailsWhenNothingListens(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if err := Probe(context.Background(), addr, "/healthz"); err == nil {
		t.Error("want an error, have success")
	}
}
