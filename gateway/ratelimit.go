package gateway

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"

	"github.com/orderflow/orderflow/transport/httperr"
)

// RateLimitConfig limits each client to a token bucket: Burst requests at
// once, refilled at Rate a second.
type RateLimitConfig struct {
	Rate  float64
	Burst int
	// TrustedProxies are the networks whose X-Forwarded-For is believed: a
	// request from one of them is the client's named there, nearest first
	// past the proxies.
	TrustedProxies string
}

// RegisterFlags defines the ratelimit.* flags of c on fs.
func (c *RateLimitConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.Float64Var(&c.Rate, "ratelimit.rate", 20, "requests a second each client may make to /orders, on average (0: no limit)")
	fs.IntVar(&c.Burst, "ratelimit.burst", 40, "requests each client may make at once, above the rate")
	fs.StringVar(&c.TrustedProxies, "ratelimit.trusted-proxies", "", "comma-separated CIDRs of the proxies whose X-Forwarded-For names the client (empty: none; the client is the peer address)")
}

// Validate reports a configuration that cannot work.
func (c RateLimitConfig) Validate() error {
	if c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) || (c.Rate > 0 && c.Burst < 1) {
		return errors.New("-ratelimit.rate must be 0 or more, and -ratelimit.burst at least 1 when it is more")
	}
	_, err := parsePrefixes(c.TrustedProxies)
	return err
}

func parsePrefixes(list string) ([]netip.Prefix, error) {
	var prefixes []netip.Prefix
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("-ratelimit.trusted-proxies: %q is not a CIDR such as 10.0.0.0/8", s)
		}
		prefixes = append(prefixes, p.Masked())
	}
	return prefixes, nil
}

// clientsKept bounds the buckets kept: the least recent client's goes
// first, and comes back full, which errs on the client's side.
const clientsKept = 100_000

// RateLimiter keeps a token bucket per client.
type RateLimiter struct {
	limit   rate.Limit
	burst   int
	trusted []netip.Prefix
	mu      sync.Mutex
	buckets *lru.Cache[string, *rate.Limiter]
	now     func() time.Time
	// policy is the RateLimit-Policy header: the burst, and the seconds
	// it takes to come back in full.
	policy string
}

// NewRateLimiter returns the RateLimiter of cfg, or nil when its rate is 0.
func NewRateLimiter(cfg RateLimitConfig) (*RateLimiter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Rate == 0 {
		return nil, nil
	}
	trusted, _ := parsePrefixes(cfg.TrustedProxies)
	buckets, _ := lru.New[string, *rate.Limiter](clientsKept)
	return &RateLimiter{
		limit: rate.Limit(cfg.Rate), burst: cfg.Burst, trusted: trusted, buckets: buckets, now: time.Now,
		policy: fmt.Sprintf(`"client";q=%d;w=%d`, cfg.Burst, int(math.Ceil(float64(cfg.Burst)/cfg.Rate))),
	}, nil
}

// clientAddr is the address r came from: its peer, or, when the peer is a
// trusted proxy, the nearest address of X-Forwarded-For that is not one.
func (l *RateLimiter) clientAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	addr = addr.Unmap()
	if !l.isTrusted(addr) {
		return addr
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return addr // a forged or broken header: the proxy is the client
		}
		if hop = hop.Unmap(); !l.isTrusted(hop) {
			return hop
		}
		addr = hop
	}
	return addr
}

func (l *RateLimiter) isTrusted(a netip.Addr) bool {
	for _, p := range l.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// allow takes a token of the client's bucket, if it has one, and says what
// is left: tokens remaining, and how long until the next one.
func (l *RateLimiter) allow(client string) (ok bool, remaining int, wait time.Duration) {
	now := l.now()
	l.mu.Lock()
	b, found := l.buckets.Get(client)
	if !found {
		b = rate.NewLimiter(l.limit, l.burst)
		l.buckets.Add(client, b)
	}
	l.mu.Unlock()
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, 0, d
	}
	left := b.TokensAt(now)
	return true, int(math.Max(0, math.Floor(left))), time.Duration(float64(time.Second) / float64(l.limit))
}

// has reports whether the client has a token left, without taking it.
func (l *RateLimiter) has(client string) bool {
	now := l.now()
	l.mu.Lock()
	b, found := l.buckets.Get(client)
	l.mu.Unlock()
	return !found || b.TokensAt(now) >= 1
}

// setHeaders tells the client where it stands, in the RateLimit-Policy and
// RateLimit headers of the IETF draft (draft-ietf-httpapi-ratelimit-headers),
// and returns the seconds until its next token.
func (l *RateLimiter) setHeaders(w http.ResponseWriter, remaining int, wait time.Duration) int {
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("RateLimit-Policy", l.policy)
	w.Header().Set("RateLimit", `"client";r=`+strconv.Itoa(remaining)+";t="+strconv.Itoa(secs))
	return secs
}

// admit lets a request of an order route through, or answers it. A nil
// RateLimiter limits nothing; a nil Authenticator lets every request
// through unsigned.
//
// Without sign-in, each client (its address) has a bucket. With sign-in,
// each signed-in user has one, and each address one more for the sign-ins
// that fail: an address whose bucket of failures is empty is answered 429
// before its token is even read, so that neither bad tokens nor the work of
// checking them are free. Every answer says where the client stands, a 401
// included, in the RateLimit headers of the bucket it drew on.
func admit(a *Authenticator, l *RateLimiter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a == nil {
			if l == nil || l.take(w, "addr:"+l.clientAddr(r).String()) {
				next.ServeHTTP(w, r)
			}
			return
		}
		addr := ""
		if l != nil {
			addr = "failed:" + l.clientAddr(r).String()
			if !l.has(addr) {
				l.take(w, addr) // answers the 429
				return
			}
		}
		sub, err := a.Subject(r)
		if err != nil {
			if l != nil {
				_, remaining, wait := l.allow(addr)
				l.setHeaders(w, remaining, wait)
			}
			httperr.Write(w, httperr.From(err, nil))
			return
		}
		if l == nil || l.take(w, "user:"+sub) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), subjectKey{}, sub)))
		}
	})
}

// take takes a token of the client's bucket and says so in the headers; a
// client with none left is answered 429, and take returns false.
func (l *RateLimiter) take(w http.ResponseWriter, client string) bool {
	ok, remaining, wait := l.allow(client)
	secs := max(l.setHeaders(w, remaining, wait), 1)
	if !ok {
		httperr.Write(w, &httperr.Error{Status: http.StatusTooManyRequests, Code: "rate_limited", RetryAfter: secs,
			Message: fmt.Sprintf("Too many requests from this client; retry in %d s.", secs)})
	}
	return ok
}
