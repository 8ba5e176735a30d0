// Package flowweb is flowsvc's HTTP side: the flow page (plain HTML, CSS
// and JavaScript, embedded in the binary), the stream of steps it
// listens to (Server-Sent Events on /events), and the proxy through which
// its form places orders on the gateway's public API (/orders), so the
// page is served from one origin.
package flowweb

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/orderflow/orderflow/transport/httperr"
)

//go:embed page
var page embed.FS

// Mount mounts on mux the page (GET /, and its files under /page/), the
// stream (GET /events) and the proxy (POST and PUT /orders).
func Mount(mux *http.ServeMux, stream *Stream, proxy *Proxy) {
	files, err := fs.Sub(page, "page")
	if err != nil {
		panic(err) // the embedded folder is there: go:embed says so
	}
	mux.Handle("GET /{$}", pageHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, files, "index.html")
	})))
	mux.Handle("GET /page/", pageHeaders(http.StripPrefix("/page/", http.FileServerFS(files))))
	mux.Handle("GET /events", stream)
	mux.Handle("/events", httperr.MethodNotAllowed("GET"))
	mux.Handle("POST /orders", proxy)
	mux.Handle("PUT /orders", proxy)
	mux.Handle("/orders", httperr.MethodNotAllowed("POST, PUT"))
}

// pageHeaders keeps the page to its own origin: its scripts and styles
// are its files, and it talks to this server only.
func pageHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		next.ServeHTTP(w, r)
	})
}
