package gateway_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/orderflow/orderflow/gateway"
	"github.com/orderflow/orderflow/transport/httperr"
)

const secret = "0123456789abcdef0123456789abcdef-test"

func signedIn(t *testing.T, cfg gateway.AuthConfig) *httptest.Server {
	t.Helper()
	auth, err := gateway.NewAuthenticator(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return newGatewayWith(t, gateway.HandlerOptions{Auth: auth})
}

func token(t *testing.T, sub string, ttl time.Duration) string {
	t.Helper()
	tok, err := gateway.NewToken(gateway.AuthConfig{HS256Secret: secret}, sub, ttl, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// call makes a request and returns its status, code, headers and body.
type answer struct {
	status int
	code   string
	header http.Header
	body   map[string]any
}

func call(t *testing.T, method, url, body string, header ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header}
	_ = json.Unmarshal(raw, &a.body)
	if e, ok := a.body["error"].(map[string]any); ok {
		a.code, _ = e["code"].(string)
	}
	return a
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

func orderBody(user string) string {
	return `{"userId":"` + user + `","productId":"1","productName":"Keyboard","totalOrderAmount":"RM 99"}`
}

func TestWithoutATokenNothingOfTheOrdersIsReached(t *testing.T) {
	gw := signedIn(t, gateway.AuthConfig{HS256Secret: secret})
	other, _ := gateway.NewToken(gateway.AuthConfig{HS256Secret: strings.Repeat("x", 40)}, "u1", time.Hour, time.Now())
	expired, _ := gateway.NewToken(gateway.AuthConfig{HS256Secret: secret}, "u1", time.Minute, time.Now().Add(-time.Hour))
	none := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.RegisteredClaims{Subject: "u1", ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))})
	unsigned, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	noExp, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{Subject: "u1"}).SignedString([]byte(secret))
	for name, header := range map[string][]string{
		"no token":          nil,
		"not bearer":        {"Authorization", "Basic dTE6cA=="},
		"malformed":         bearer("not.a.jwt"),
		"wrongly signed":    bearer(other),
		"expired":           bearer(expired),
		"alg none":          bearer(unsigned),
		"no exp":            bearer(noExp),
		"two Authorization": append(bearer(token(t, "u1", time.Hour)), bearer(token(t, "u1", time.Hour))...),
	} {
		for _, r := range []struct{ method, path, body string }{
			{"POST", "/orders", orderBody("u1")}, {"GET", "/orders/u1", ""}, {"GET", "/orders/status/6b06dc7bd1137d4b336e0c48", ""},
		} {
			a := call(t, r.method, gw.URL+r.path, r.body, header...)
			if a.status != http.StatusUnauthorized || a.code != "unauthorized" || !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: %s %s: want 401 unauthorized with WWW-Authenticate: Bearer, have %d %s %q", name, r.method, r.path, a.status, a.code, a.header.Get("WWW-Authenticate"))
			}
		}
	}
	if a := call(t, "GET", gw.URL+"/healthz", ""); a.status != http.StatusOK {
		t.Errorf("health needs no token: have %d", a.status)
	}
}

func TestATokenActsForItsUserOnly(t *testing.T) {
	gw := signedIn(t, gateway.AuthConfig{HS256Secret: secret})
	u1, u2 := bearer(token(t, "u1", time.Hour)), bearer(token(t, "u2", time.Hour))

	if a := call(t, "POST", gw.URL+"/orders", orderBody("u2"), u1...); a.status != http.StatusForbidden || a.code != "forbidden" {
		t.Errorf("an order for another user: want 403 forbidden, have %d %s", a.status, a.code)
	}
	if a := call(t, "GET", gw.URL+"/orders/u2", "", u1...); a.status != http.StatusForbidden || a.code != "forbidden" {
		t.Errorf("another user's list: want 403 forbidden, have %d %s", a.status, a.code)
	}
	created := call(t, "POST", gw.URL+"/orders", orderBody("u2"), u2...)
	if created.status != http.StatusCreated {
		t.Fatalf("u2's own order: want 201, have %d %v", created.status, created.body)
	}
	id := created.body["created"].(map[string]any)["id"].(string)

	for _, r := range []struct{ method, path, body string }{
		{"GET", "/orders/one/" + id, ""},
		{"GET", "/orders/status/" + id, ""},
		{"PUT", "/orders", `{"orderId":"` + id + `","orderStatus":"Cancelled"}`},
	} {
		a := call(t, r.method, gw.URL+r.path, r.body, u1...)
		if a.status != http.StatusNotFound || a.code != "order_not_found" {
			t.Errorf("%s %s of another user's order: want 404 order_not_found, have %d %s", r.method, r.path, a.status, a.code)
		}
	}
	if a := call(t, "GET", gw.URL+"/orders/one/"+id, "", u2...); a.status != http.StatusOK || a.body["order"].(map[string]any)["orderStatus"] != "Processing" {
		t.Errorf("the owner sees the order unchanged: have %d %v", a.status, a.body)
	}
	if a := call(t, "GET", gw.URL+"/orders/u2", "", u2...); a.status != http.StatusOK || len(a.body["orders"].([]any)) != 1 {
		t.Errorf("the owner lists the order: have %d %v", a.status, a.body)
	}
	if a := call(t, "PUT", gw.URL+"/orders", `{"orderId":"`+id+`","orderStatus":"Cancelled"}`, u2...); a.status != http.StatusOK {
		t.Errorf("the owner cancels it: have %d %v", a.status, a.body)
	}
}

func TestTokensSignedByAKeyOfTheJWKS(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	jwks := `{"keys":[{"kty":"RSA","kid":"k1","alg":"RS256","use":"sig","n":"` + b64(key.N.Bytes()) + `","e":"` + b64(big.NewInt(int64(key.E)).Bytes()) + `"}]}`
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, jwks)
	}))
	defer keys.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	auth, err := gateway.NewAuthenticator(ctx, gateway.AuthConfig{JWKSURL: keys.URL, Issuer: "https://id.example", Audience: "orders"})
	if err != nil {
		t.Fatal(err)
	}
	gw := newGatewayWith(t, gateway.HandlerOptions{Auth: auth})

	claims := func(iss, aud string) jwt.RegisteredClaims {
		return jwt.RegisteredClaims{Subject: "u1", Issuer: iss, Audience: jwt.ClaimStrings{aud}, ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}
	}
	rs := func(c jwt.RegisteredClaims) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
		tok.Header["kid"] = "k1"
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if a := call(t, "GET", gw.URL+"/orders/u1", "", bearer(rs(claims("https://id.example", "orders")))...); a.status != http.StatusOK {
		t.Errorf("a token of the JWKS's key: want 200, have %d %s", a.status, a.code)
	}
	for name, tok := range map[string]string{
		"another issuer":   rs(claims("https://evil.example", "orders")),
		"another audience": rs(claims("https://id.example", "billing")),
	} {
		if a := call(t, "GET", gw.URL+"/orders/u1", "", bearer(tok)...); a.status != http.StatusUnauthorized {
			t.Errorf("%s: want 401, have %d", name, a.status)
		}
	}
	// The key is for RS256: the same key under another algorithm is refused.
	ps := jwt.NewWithClaims(jwt.SigningMethodPS256, claims("https://id.example", "orders"))
	ps.Header["kid"] = "k1"
	other, _ := ps.SignedString(key)
	if a := call(t, "GET", gw.URL+"/orders/u1", "", bearer(other)...); a.status != http.StatusUnauthorized {
		t.Errorf("PS256 with the RS256 key: want 401, have %d", a.status)
	}
	// The public key used as an HMAC secret: the classic confusion.
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, claims("https://id.example", "orders"))
	hs.Header["kid"] = "k1"
	forged, _ := hs.SignedString(key.N.Bytes())
	if a := call(t, "GET", gw.URL+"/orders/u1", "", bearer(forged)...); a.status != http.StatusUnauthorized {
		t.Errorf("an HS256 token against a JWKS: want 401, have %d", a.status)
	}
}

func TestEachClientIsRateLimited(t *testing.T) {
	limiter, err := gateway.NewRateLimiter(gateway.RateLimitConfig{Rate: 0.5, Burst: 2, TrustedProxies: "127.0.0.0/8, ::1/128"})
	if err != nil {
		t.Fatal(err)
	}
	gw := newGatewayWith(t, gateway.HandlerOptions{Limiter: limiter})
	from := func(addr string) []string { return []string{"X-Forwarded-For", addr} }
	for i := range 2 {
		if a := call(t, "GET", gw.URL+"/orders/u1", "", from("203.0.113.7")...); a.status != http.StatusOK || a.header.Get("RateLimit-Policy") == "" || a.header.Get("RateLimit") == "" {
			t.Fatalf("request %d within the burst: want 200 with RateLimit headers, have %d %v", i, a.status, a.header)
		}
	}
	a := call(t, "GET", gw.URL+"/orders/u1", "", from("203.0.113.7")...)
	if a.status != http.StatusTooManyRequests || a.code != "rate_limited" || a.header.Get("Retry-After") == "" || !strings.Contains(a.header.Get("RateLimit"), "r=0") {
		t.Errorf("past the burst: want 429 rate_limited with Retry-After and r=0, have %d %s %v", a.status, a.code, a.header)
	}
	if a := call(t, "GET", gw.URL+"/orders/u1", "", from("203.0.113.8")...); a.status != http.StatusOK {
		t.Errorf("another client behind the same trusted proxy: want 200, have %d", a.status)
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/api-json"} {
		if a := call(t, "GET", gw.URL+path, "", from("203.0.113.7")...); a.status == http.StatusTooManyRequests {
			t.Errorf("%s is limited", path)
		}
	}
}

// Sign-ins that fail are limited per address before the token is read: a
// flood of bad tokens meets 429s, not the work of checking each one, while
// users signed in from other addresses are not held back. Every answer of
// an order route, a 401 and a 429 included, says where the client stands.
func TestFailedSignInsAreLimitedBeforeTheirTokenIsRead(t *testing.T) {
	limiter, err := gateway.NewRateLimiter(gateway.RateLimitConfig{Rate: 0.5, Burst: 2, TrustedProxies: "127.0.0.0/8, ::1/128"})
	if err != nil {
		t.Fatal(err)
	}
	auth, err := gateway.NewAuthenticator(context.Background(), gateway.AuthConfig{HS256Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	gw := newGatewayWith(t, gateway.HandlerOptions{Auth: auth, Limiter: limiter})
	from := func(addr, tok string) []string { return append([]string{"X-Forwarded-For", addr}, bearer(tok)...) }
	for i := range 2 {
		a := call(t, "GET", gw.URL+"/orders/u1", "", from("203.0.113.7", "not.a.jwt")...)
		if a.status != http.StatusUnauthorized || a.header.Get("RateLimit-Policy") == "" || a.header.Get("RateLimit") == "" {
			t.Fatalf("bad token %d: want 401 with RateLimit headers, have %d %v", i, a.status, a.header)
		}
	}
	other, _ := gateway.NewToken(gateway.AuthConfig{HS256Secret: strings.Repeat("x", 40)}, "u1", time.Hour, time.Now())
	for _, tok := range []string{"not.a.jwt", other, "", token(t, "u1", time.Hour)} {
		a := call(t, "GET", gw.URL+"/orders/u1", "", from("203.0.113.7", tok)...)
		if a.status != http.StatusTooManyRequests || a.code != "rate_limited" || a.header.Get("Retry-After") == "" || a.header.Get("RateLimit") == "" {
			t.Errorf("past the failures' burst, unread: want 429 rate_limited with Retry-After and RateLimit, have %d %s %v", a.status, a.code, a.header)
		}
	}
	a := call(t, "GET", gw.URL+"/orders/u1", "", from("203.0.113.8", token(t, "u1", time.Hour))...)
	if a.status != http.StatusOK || a.header.Get("RateLimit") == "" {
		t.Errorf("the user signed in from another address: want 200 with RateLimit, have %d %v", a.status, a.header)
	}
}

func TestAForwardedForFromAnUntrustedPeerIsIgnored(t *testing.T) {
	limiter, err := gateway.NewRateLimiter(gateway.RateLimitConfig{Rate: 0.5, Burst: 1})
	if err != nil {
		t.Fatal(err)
	}
	gw := newGatewayWith(t, gateway.HandlerOptions{Limiter: limiter})
	call(t, "GET", gw.URL+"/orders/u1", "", "X-Forwarded-For", "198.51.100.1")
	if a := call(t, "GET", gw.URL+"/orders/u1", "", "X-Forwarded-For", "198.51.100.2"); a.status != http.StatusTooManyRequests {
		t.Errorf("a made-up X-Forwarded-For makes a new client: have %d", a.status)
	}
}

func TestHolesInTheInputAreClosed(t *testing.T) {
	gw := newGateway(t)
	valid := `{"userId":"u1","productId":"1","productName":"Keyboard","totalOrderAmount":1}`
	for name, tc := range map[string]struct {
		body   string
		header []string
		status int
		code   string
		field  string
	}{
		"invalid UTF-8 in productName": {`{"userId":"u1","productId":"1","productName":"Key` + "\xff" + `board","totalOrderAmount":1}`, nil, 400, "validation_failed", "productName"},
		"a lone surrogate":             {`{"userId":"u1","productId":"1","productName":"Key\udc00board","totalOrderAmount":1}`, nil, 400, "validation_failed", "productName"},
		"two Idempotency-Keys":         {valid, []string{"Idempotency-Key", "a", "Idempotency-Key", "b"}, 400, "validation_failed", "Idempotency-Key"},
		"a compressed body":            {valid, []string{"Content-Encoding", "br"}, 415, "unsupported_encoding", ""},
	} {
		a := call(t, "POST", gw.URL+"/orders", tc.body, tc.header...)
		if a.status != tc.status || a.code != tc.code {
			t.Errorf("%s: want %d %s, have %d %s", name, tc.status, tc.code, a.status, a.code)
			continue
		}
		if tc.field != "" {
			fields, _ := a.body["error"].(map[string]any)["fields"].(map[string]any)
			if fields[tc.field] == nil {
				t.Errorf("%s: want a message for %s, have %v", name, tc.field, a.body)
			}
		}
	}
	if a := call(t, "POST", gw.URL+"/orders", `{"userId":"u1","productId":"1","productName":"A \ufffd is fine","totalOrderAmount":1}`); a.status != http.StatusCreated {
		t.Errorf("a U+FFFD the client wrote is text: want 201, have %d %v", a.status, a.body)
	}
	if a := call(t, "POST", gw.URL+"/metrics", ""); a.status != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: want 405, have %d", a.status)
	}
	for _, path := range []string{"//orders/u1", "/./orders/u1"} {
		req, _ := http.NewRequest("GET", gw.URL+path, nil)
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 3 || resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s: want a redirect with X-Request-Id, have %d %v", path, resp.StatusCode, resp.Header)
		}
	}
	req, _ := http.NewRequest("FROBNICATE", gw.URL+"/orders", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	if m := call(t, "GET", gw.URL+"/metrics", ""); m.status != http.StatusOK {
		t.Fatalf("GET /metrics: %d", m.status)
	}
	resp, err := http.Get(gw.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(raw), "FROBNICATE") || !strings.Contains(string(raw), `method="other"`) {
		t.Errorf("a made-up method is counted as other, not by its name")
	}
}

// FuzzTokens checks that any Authorization header either signs in the
// user of a token signed with the secret, or is a 401, and never panics.
func FuzzTokens(f *testing.F) {
	good, _ := gateway.NewToken(gateway.AuthConfig{HS256Secret: secret}, "u1", time.Hour, time.Now())
	for _, seed := range []string{"Bearer " + good, "Bearer " + good[:len(good)-3], "Bearer", "Bearer a.b.c", "Basic x", "Bearer eyJhbGciOiJub25lIn0.e30."} {
		f.Add(seed)
	}
	auth, err := gateway.NewAuthenticator(context.Background(), gateway.AuthConfig{HS256Secret: secret})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, header string) {
		req := httptest.NewRequest("GET", "/orders/u1", nil)
		req.Header.Set("Authorization", header)
		sub, err := auth.Subject(req)
		var e *httperr.Error
		switch {
		case err != nil && (!errors.As(err, &e) || e.Status != http.StatusUnauthorized):
			t.Fatalf("want a 401, have %v", err)
		case err == nil && sub != "u1":
			t.Fatalf("signed in %q from %q", sub, header)
		}
	})
}

func TestACursorContinuesOnlyTheListItWasIssuedFor(t *testing.T) {
	gw := newGateway(t)
	for range 2 {
		if a := call(t, "POST", gw.URL+"/orders", orderBody("u1")); a.status != http.StatusCreated {
			t.Fatalf("create: %d", a.status)
		}
	}
	page := call(t, "GET", gw.URL+"/orders/u1?limit=1", "")
	cursor, _ := page.body["nextCursor"].(string)
	if cursor == "" {
		t.Fatalf("want a next page, have %v", page.body)
	}
	if a := call(t, "GET", gw.URL+"/orders/u1?limit=1&cursor="+cursor, ""); a.status != http.StatusOK || len(a.body["orders"].([]any)) != 1 {
		t.Errorf("the cursor on its own list: want the second order, have %d %v", a.status, a.body)
	}
	if a := call(t, "GET", gw.URL+"/orders/u2?limit=1&cursor="+cursor, ""); a.status != http.StatusBadRequest || a.code != "invalid_cursor" {
		t.Errorf("u1's cursor on u2's list: want 400 invalid_cursor, have %d %s", a.status, a.code)
	}
}
