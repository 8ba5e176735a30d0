package httperr_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/orderflow/orderflow/transport/httperr"
)

// While the one request admitted is served, with no room to wait, the next
// is answered 503 with Retry-After at once and never reaches the handler.
func TestLimitInFlightRefusesBeyondWhatItAdmits(t *testing.T) {
	entered, release := make(chan struct{}, 2), make(chan struct{})
	srv := httptest.NewServer(httperr.LimitInFlight(1, 0, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	})))
	defer srv.Close()
	first := make(chan int, 1)
	go func() {
		resp, err := http.Get(srv.URL)
		if err != nil {
			first <- 0
			return
		}
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	<-entered
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("want 503 with Retry-After: 1, have %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	close(release)
	if code := <-first; code != http.StatusOK {
		t.Errorf("the admitted request: want 200, have %d", code)
	}
	if len(entered) != 0 {
		t.Error("the refused request reached the handler")
	}
}

// Requests beyond those served at once wait their turn and are all served,
// never more at once than allowed.
func TestLimitInFlightQueuesWhatItCannotServeYet(t *testing.T) {
	var inside, most atomic.Int32
	srv := httptest.NewServer(httperr.LimitInFlight(2, 10, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inside.Add(1)
		defer inside.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
	})))
	defer srv.Close()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			resp, err := http.Get(srv.URL)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("want 200, have %d", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	if most.Load() > 2 {
		t.Errorf("want at most 2 served at once, have %d", most.Load())
	}
}

func TestErrorMessagesQuoteAShortPrefixOfTheRequest(t *testing.T) {
	long := "/" + strings.Repeat("é", 4096)
	for _, h := range []http.Handler{http.HandlerFunc(httperr.NotFound), httperr.MethodNotAllowed("GET")} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(strings.Repeat("X", 300), long, nil)
		h.ServeHTTP(rec, req)
		var b struct {
			Error struct{ Message string } `json:"error"`
		}
		if err := json.NewDecoder(rec.Body).Decode(&b); err != nil {
			t.Fatal(err)
		}
		if len(b.Error.Message) > 200 || !utf8.ValidString(b.Error.Message) || !strings.Contains(b.Error.Message, "…") {
			t.Errorf("want a short message quoting a prefix, have %d bytes: %.100q", len(b.Error.Message), b.Error.Message)
		}
	}
}
