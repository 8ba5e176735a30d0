package httpserver

import (
	"flag"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/go-kit/log"
	"github.com/oklog/run"
)

// RegisterDebugFlag defines -debug.addr, the address of the profiling
// endpoints, off unless set.
func RegisterDebugFlag(fs *flag.FlagSet, addr *string) {
	fs.StringVar(addr, "debug.addr", "", "address of the pprof endpoints, /debug/pprof/ (empty: off; keep it internal, such as 127.0.0.1:6060)")
}

// AddDebugServer adds to g a server of net/http/pprof on addr, unless addr
// is empty: go tool pprof http://<addr>/debug/pprof/profile profiles the
// process for 30 seconds. envVar names the variable that sets addr, for a
// busy port's message.
func AddDebugServer(g *run.Group, addr, envVar string, logger log.Logger) error {
	if addr == "" {
		return nil
	}
	ln, err := Listen(addr, "debug.addr", envVar)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	// No write timeout: a profile takes as long as it was asked for.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	AddServer(g, srv, ln, time.Second, log.With(logger, "component", "debug"))
	return nil
}
