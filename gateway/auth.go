package gateway

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/orderflow/orderflow/ordersvc/order"
	"github.com/orderflow/orderflow/transport/httperr"
)

// AuthConfig says how callers sign in: with a bearer JWT signed by the
// HS256 secret, or by a key of the JWKS at JWKSURL. With neither, sign-in
// is off and every caller may act for any user, as the original API let
// them.
type AuthConfig struct {
	HS256Secret string
	JWKSURL     string
	Issuer      string
	Audience    string
}

// RegisterFlags defines the auth.* flags of c on fs.
func (c *AuthConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.HS256Secret, "auth.hs256.secret", "", "secret of the HS256 tokens callers sign in with, at least 32 bytes (empty: no HS256 sign-in)")
	fs.StringVar(&c.JWKSURL, "auth.jwks.url", "", "URL of the JWKS whose keys sign callers' tokens, fetched at start and refreshed (empty: no JWKS sign-in)")
	fs.StringVar(&c.Issuer, "auth.issuer", "", "iss a token must have (empty: not checked)")
	fs.StringVar(&c.Audience, "auth.audience", "", "aud a token must include (empty: not checked)")
}

// Enabled reports whether callers must sign in.
func (c AuthConfig) Enabled() bool { return c.HS256Secret != "" || c.JWKSURL != "" }

// Validate reports a configuration that cannot work.
func (c AuthConfig) Validate() error {
	switch {
	case c.HS256Secret != "" && c.JWKSURL != "":
		return errors.New("-auth.hs256.secret and -auth.jwks.url are exclusive: set one")
	case c.HS256Secret != "" && len(c.HS256Secret) < minSecret:
		return fmt.Errorf("-auth.hs256.secret must be at least %d bytes: a shorter one can be guessed", minSecret)
	case (c.Issuer != "" || c.Audience != "") && !c.Enabled():
		return errors.New("-auth.issuer and -auth.audience need -auth.hs256.secret or -auth.jwks.url")
	}
	return nil
}

const (
	// minSecret is the shortest HS256 secret taken: 256 bits.
	minSecret = 32
	// leeway is how far the clocks of the token's issuer and the gateway
	// may disagree.
	leeway = 30 * time.Second
)

// asymmetric are the algorithms a JWKS key may sign with: never HS*, so a
// public key cannot be used as an HMAC secret.
var asymmetric = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// Authenticator verifies the bearer tokens of callers.
type Authenticator struct {
	parser  *jwt.Parser
	keyfunc jwt.Keyfunc
}

// NewAuthenticator returns the Authenticator of cfg, or nil when sign-in is
// off. With a JWKS URL, it fetches the keys once now and refreshes them in
// the background until ctx is done; a token signed by a key it does not
// know makes it look again, at most once in a while.
func NewAuthenticator(ctx context.Context, cfg AuthConfig) (*Authenticator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Enabled() {
		return nil, nil
	}
	opts := []jwt.ParserOption{jwt.WithExpirationRequired(), jwt.WithLeeway(leeway), jwt.WithIssuedAt()}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	a := &Authenticator{}
	if cfg.HS256Secret != "" {
		secret := []byte(cfg.HS256Secret)
		a.keyfunc = func(*jwt.Token) (any, error) { return secret, nil }
		opts = append(opts, jwt.WithValidMethods([]string{"HS256"}))
	} else {
		k, err := keyfunc.NewDefaultCtx(ctx, []string{cfg.JWKSURL})
		if err != nil {
			return nil, fmt.Errorf("-auth.jwks.url: %w", err)
		}
		a.keyfunc = k.Keyfunc
		opts = append(opts, jwt.WithValidMethods(asymmetric))
	}
	a.parser = jwt.NewParser(opts...)
	return a, nil
}

// errUnauthorized is the answer to a request without a valid token.
func errUnauthorized(msg string, tokenGiven bool) *httperr.Error {
	challenge := `Bearer realm="orders"`
	if tokenGiven {
		challenge += `, error="invalid_token"`
	}
	return &httperr.Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: msg,
		Header: http.Header{"Www-Authenticate": {challenge}}}
}

var errForbidden = httperr.New(http.StatusForbidden, "forbidden", "The token is for another user than the one this request is for.")

// Subject returns the user the request's bearer token signs in, or the
// *httperr.Error of a request that has none, or a bad one.
func (a *Authenticator) Subject(r *http.Request) (string, error) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return "", errUnauthorized("Sign in: send Authorization: Bearer <token>.", false)
	}
	raw, ok := strings.CutPrefix(values[0], "Bearer ")
	if len(values) > 1 || !ok || raw == "" {
		return "", errUnauthorized("Send one Authorization header: Bearer <token>.", true)
	}
	var claims jwt.RegisteredClaims
	if _, err := a.parser.ParseWithClaims(strings.TrimSpace(raw), &claims, a.keyfunc); err != nil {
		msg := "The token is not valid: malformed, wrongly signed, or not for this API."
		if errors.Is(err, jwt.ErrTokenExpired) {
			msg = "The token has expired; sign in again."
		}
		return "", errUnauthorized(msg, true)
	}
	if !order.ValidUserID(claims.Subject) {
		return "", errUnauthorized("The token's sub is not a userId (1 to 64 characters of A-Z, a-z, 0-9, _ or -).", true)
	}
	return claims.Subject, nil
}

type subjectKey struct{}

// subjectFrom returns the user the request signed in as, or "" when
// sign-in is off.
func subjectFrom(ctx context.Context) string {
	sub, _ := ctx.Value(subjectKey{}).(string)
	return sub
}

// NewToken returns an HS256 token for sub, valid for ttl, with the issuer
// and audience cfg checks: what `gateway token` prints.
func NewToken(cfg AuthConfig, sub string, ttl time.Duration, now time.Time) (string, error) {
	switch {
	case cfg.HS256Secret == "":
		return "", errors.New("tokens are signed with -auth.hs256.secret (or GATEWAY_AUTH_HS256_SECRET), which is not set")
	case len(cfg.HS256Secret) < minSecret:
		return "", fmt.Errorf("-auth.hs256.secret must be at least %d bytes", minSecret)
	case !order.ValidUserID(sub):
		return "", errors.New("-sub must be a userId: 1 to 64 characters of A-Z, a-z, 0-9, _ or -")
	case ttl <= 0:
		return "", errors.New("-ttl must be positive")
	}
	claims := jwt.RegisteredClaims{
		Subject: sub, Issuer: cfg.Issuer,
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}
	if cfg.Audience != "" {
		claims.Audience = jwt.ClaimStrings{cfg.Audience}
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(cfg.HS256Secret))
}
