package flowweb

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/transport/httperr"
)

// maxProxiedBody is the largest body the proxy forwards. The gateway takes
// 16 KiB and answers a larger one itself; beyond this, the proxy does.
const maxProxiedBody = 64 << 10

// maxProxiedAnswer is the most of the gateway's answer the proxy passes on.
const maxProxiedAnswer = 1 << 20

// forwardedHeaders are the request headers passed on to the gateway.
var forwardedHeaders = []string{"Content-Type", "Accept", "Authorization", "Idempotency-Key", "X-Request-Id"}

// hopHeaders are the response headers of one connection, not passed on.
var hopHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Transfer-Encoding": true, "Content-Length": true,
	"Proxy-Authenticate": true, "Trailer": true, "Upgrade": true,
}

// Proxy passes the page's calls of /orders to the gateway's public API,
// so the page needs no cross-origin access: the body as it came, and the
// gateway's answer (status, headers, body) unchanged. The client's address
// goes along in X-Forwarded-For.
type Proxy struct {
	url    string
	client *http.Client
	logger log.Logger
}

// NewProxy returns a Proxy to the /orders of the gateway at gatewayURL
// (http://host:port), calling it with client.
func NewProxy(gatewayURL string, client *http.Client, logger log.Logger) *Proxy {
	return &Proxy{url: strings.TrimSuffix(gatewayURL, "/") + "/orders", client: client, logger: logger}
}

// errUnavailable is the answer when the gateway does not answer.
var errUnavailable = httperr.New(http.StatusBadGateway, "gateway_unavailable", "The order API did not answer: is the gateway running?")

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxProxiedBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			httperr.Write(w, httperr.New(http.StatusRequestEntityTooLarge, "body_too_large", "The body is larger than the order API takes."))
		}
		return // else the client is gone
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.url, bytes.NewReader(body))
	if err != nil {
		httperr.Write(w, httperr.Internal)
		return
	}
	for _, name := range forwardedHeaders {
		if v := r.Header.Values(name); len(v) > 0 {
			req.Header[name] = v
		}
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		prior := strings.Join(r.Header.Values("X-Forwarded-For"), ", ")
		if prior != "" {
			host = prior + ", " + host
		}
		req.Header.Set("X-Forwarded-For", host)
	}

	resp, err := p.client.Do(req)
	if err != nil {
		if !errors.Is(r.Context().Err(), context.Canceled) {
			p.logger.Log("msg", "order API did not answer", "method", r.Method, "err", err)
			httperr.Write(w, errUnavailable)
		}
		return
	}
	defer resp.Body.Close()
	for name, values := range resp.Header {
		if !hopHeaders[name] {
			w.Header()[name] = values
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, io.LimitReader(resp.Body, maxProxiedAnswer))
}

// Check is the health check of the gateway: its /healthz answers 200.
func (p *Proxy) Check(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(p.url, "/orders")+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		return errors.New("gateway answered " + resp.Status)
	}
	return nil
}
