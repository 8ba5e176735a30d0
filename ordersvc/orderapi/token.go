package orderapi

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/orderflow/orderflow/transport/httperr"
)

// errNoToken answers a call without the internal token.
var errNoToken = &httperr.Error{Status: http.StatusUnauthorized, Code: "unauthorized",
	Message: "Calls of the order API need the internal token: Authorization: Bearer <token>.",
	Header:  http.Header{"Www-Authenticate": {`Bearer realm="ordersvc"`}}}

// RequireToken lets through only the calls that present token as
// "Authorization: Bearer <token>"; an empty token lets every call through.
// It is a second lock beside the network policies: a pod that can reach
// ordersvc still cannot call it without the Secret.
func RequireToken(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := []byte(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		have, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(have), want) != 1 {
			httperr.Write(w, errNoToken)
			return
		}
		next.ServeHTTP(w, r)
	})
}
