// Package httpserver serves HTTP the way every service here does: listeners
// that explain a busy port, servers with timeouts that shut down gracefully,
// health endpoints, the probe that checks them, and pprof on request.
package httpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/go-kit/log"
	"github.com/oklog/run"

	"github.com/orderflow/orderflow/transport/httperr"
)

// Listen binds addr, explaining a busy port with the flag and variable that
// change it.
func Listen(addr, flagName, envName string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("port of %s is already in use: stop what listens there or pick another address with -%s or %s", addr, flagName, envName)
	}
	if err != nil {
		return nil, fmt.Errorf("listen on %s (set -%s or %s): %w", addr, flagName, envName, err)
	}
	return ln, nil
}

// NewServer returns an HTTP server with timeouts on every phase of a request.
func NewServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           closeAfterChunked(h),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// closeAfterChunked closes the connection of a request whose body came
// chunked once it is answered. A request that also had a Content-Length
// frames its body two ways, which is how requests are smuggled past a
// proxy: RFC 9112 (section 6.3) has the server close the connection after
// answering it, since the next bytes on it cannot be trusted. net/http drops
// the Content-Length before a handler sees it, so every chunked request is
// taken as one: a client that sends its bodies chunked dials again.
func closeAfterChunked(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TransferEncoding) > 0 {
			w.Header().Set("Connection", "close")
		}
		h.ServeHTTP(w, r)
	})
}

// AddServer adds to g an actor serving srv on ln until interrupted, then
// shutting it down gracefully within timeout.
func AddServer(g *run.Group, srv *http.Server, ln net.Listener, timeout time.Duration, logger log.Logger) {
	g.Add(func() error {
		logger.Log("msg", "serving HTTP", "addr", ln.Addr().String())
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}, func(error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			logger.Log("msg", "HTTP shutdown cut short", "err", err)
		}
	})
}

// Check reports whether a dependency is usable.
type Check func(ctx context.Context) error

// MountHealth mounts GET /healthz (the process is alive) and GET /readyz
// on mux. /readyz fails when a check of ready does: what keeps this replica,
// and not its peers, from doing its work, so that sending it no traffic
// helps. It reports, without failing on them, the dependencies: what every
// replica shares, whose outage removing replicas would only turn into a
// bigger one. A result names the check, never an address or an error.
func MountHealth(mux *http.ServeMux, ready, dependencies map[string]Check) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]any{"ok": true})
	})
	mux.Handle("/healthz", httperr.MethodNotAllowed("GET"))
	mux.Handle("/readyz", httperr.MethodNotAllowed("GET"))
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		run := func(checks map[string]Check) (map[string]string, bool) {
			results, ok := map[string]string{}, true
			for name, check := range checks {
				results[name] = "ok"
				if err := check(ctx); err != nil {
					results[name], ok = "failing", false
				}
			}
			return results, ok
		}
		checks, ok := run(ready)
		deps, _ := run(dependencies)
		status := http.StatusOK
		if !ok {
			status = http.StatusServiceUnavailable
		}
		WriteJSON(w, status, map[string]any{"ok": ok, "checks": checks, "dependencies": deps})
	})
}

// WriteJSON writes v as the JSON body of a response with status.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}
