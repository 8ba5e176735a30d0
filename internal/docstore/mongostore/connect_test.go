package mongostore

import "testing"

func TestCredentialsApartFromTheURI(t *testing.T) {
	for _, tc := range []struct {
		name             string
		cfg              Config
		user, authSource string
	}{
		{"none", Config{URI: "mongodb://mongo:27017", Database: "orders"}, "", ""},
		{"against the service's database", Config{URI: "mongodb://mongo:27017", Database: "orders", Username: "ordersvc", Password: "p@ss:/"}, "ordersvc", "orders"},
		{"the URI's authSource wins", Config{URI: "mongodb://mongo:27017/?authSource=admin", Database: "orders", Username: "ordersvc", Password: "x"}, "ordersvc", "admin"},
		{"the URI's own credentials", Config{URI: "mongodb://app:pw@mongo:27017/?authSource=admin", Database: "orders"}, "app", "admin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			auth := tc.cfg.clientOptions().Auth
			if tc.user == "" {
				if auth != nil {
					t.Errorf("want no credentials, have %+v", auth)
				}
				return
			}
			if auth == nil || auth.Username != tc.user || auth.AuthSource != tc.authSource {
				t.Fatalf("want %s against %s, have %+v", tc.user, tc.authSource, auth)
			}
			if tc.cfg.Password != "" && auth.Password != tc.cfg.Password {
				t.Errorf("the password was changed: %q", auth.Password)
			}
		})
	}
}
