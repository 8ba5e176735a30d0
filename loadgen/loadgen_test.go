package loadgen_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orderflow/orderflow/loadgen"
)

// fakeAPI answers POST /orders with a new id, but every fifth one with a
// 503, and GET /orders/status/{id} with Processing for the first two asks
// of an order, then Success.
type fakeAPI struct {
	posts atomic.Int64
	mu    sync.Mutex
	asked map[string]int
	keys  map[string]bool
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/orders":
		n := f.posts.Add(1)
		f.mu.Lock()
		f.keys[r.Header.Get("Idempotency-Key")] = true
		f.mu.Unlock()
		if n%5 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"ok":true,"created":{"id":"o%d"}}`, n)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/orders/status/"):
		id := strings.TrimPrefix(r.URL.Path, "/orders/status/")
		f.mu.Lock()
		f.asked[id]++
		status := "Processing"
		if f.asked[id] > 2 {
			status = "Success"
		}
		f.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "orderStatus": status})
	default:
		http.NotFound(w, r)
	}
}

func TestARunCountsWhatClientsSaw(t *testing.T) {
	api := &fakeAPI{asked: map[string]int{}, keys: map[string]bool{}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	rep, err := loadgen.Run(context.Background(), loadgen.Config{
		BaseURL: srv.URL, Concurrency: 4, Count: 100, Users: 10,
		Products:        []loadgen.Weighted{{ProductID: "1", Weight: 1}},
		IdempotencyKeys: true, Poll: time.Millisecond, PollMax: 2 * time.Millisecond, Drain: 10 * time.Second,
		Processes: []loadgen.Process{{Name: "self", PID: os.Getpid()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Created != 80 || rep.Errors["503"] != 20 || rep.ErrorCount() != 20 {
		t.Errorf("want 80 created and 20 answered 503, have %d and %v", rep.Created, rep.Errors)
	}
	if rep.Settled != 80 || rep.Unsettled != 0 || rep.Polls != 3*80 {
		t.Errorf("want 80 settled after 3 polls each, have %d settled, %d unsettled, %d polls", rep.Settled, rep.Unsettled, rep.Polls)
	}
	if rep.Settle.P50 <= 0 || rep.Settle.P50 > rep.Settle.P99 || rep.Post.P99 > rep.Post.Max {
		t.Errorf("percentiles out of order: %+v %+v", rep.Settle, rep.Post)
	}
	if len(api.keys) != 100 {
		t.Errorf("want a fresh Idempotency-Key on each of 100 POSTs, have %d distinct", len(api.keys))
	}
	if len(rep.CPU) != 1 || rep.CPU[0].Ms < 0 {
		t.Errorf("want this process's CPU reported, have %+v", rep.CPU)
	}
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil || !strings.Contains(text.String(), "503: 20") {
		t.Errorf("the text report lacks the errors: %q (%v)", text.String(), err)
	}
}

func TestARateHoldsAllClientsTogetherToIt(t *testing.T) {
	api := &fakeAPI{asked: map[string]int{}, keys: map[string]bool{}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	begin := time.Now()
	rep, err := loadgen.Run(context.Background(), loadgen.Config{
		BaseURL: srv.URL, Concurrency: 8, Count: 20, Rate: 50, Users: 10,
		Products: []loadgen.Weighted{{ProductID: "1", Weight: 1}}, Drain: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	// The first order goes at once, each of the 19 after 20 ms later.
	if took := time.Since(begin); api.posts.Load() != 20 || took < 19*20*time.Millisecond {
		t.Errorf("want 20 orders paced at 50 a second (at least 380 ms), have %d in %v", api.posts.Load(), took)
	}
	if rep.Created != 16 {
		t.Errorf("want 16 created (every fifth answered 503), have %d", rep.Created)
	}
	if _, err := loadgen.Run(context.Background(), loadgen.Config{
		BaseURL: srv.URL, Concurrency: 1, Count: 1, Rate: -1, Users: 1,
		Products: []loadgen.Weighted{{ProductID: "1", Weight: 1}},
	}); err == nil {
		t.Error("a negative rate was taken")
	}
}

// An order whose status is one the run does not take as final (the
// original system says Declined where this one says Failed) is unsettled,
// and the report says which status it was left in.
func TestAnOrderThatNeverSettlesIsReportedUnsettledWithItsLastStatus(t *testing.T) {
	var posts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"ok":true,"created":{"id":"o%d"}}`, posts.Add(1))
			return
		}
		status := "Processing"
		if r.URL.Path == "/orders/status/o2" {
			status = "Declined"
		}
		fmt.Fprintf(w, `{"ok":true,"orderStatus":%q}`, status)
	}))
	defer srv.Close()
	rep, err := loadgen.Run(context.Background(), loadgen.Config{
		BaseURL: srv.URL, Concurrency: 1, Count: 3, Users: 1,
		Products: []loadgen.Weighted{{ProductID: "2", Weight: 1}},
		Poll:     time.Millisecond, PollMax: 5 * time.Millisecond, Drain: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Created != 3 || rep.Settled != 0 || rep.Unsettled != 3 {
		t.Errorf("want 3 created, none settled, have %+v", rep)
	}
	if want := map[string]int{"Processing": 2, "Declined": 1}; !maps.Equal(rep.UnsettledLastSeen, want) {
		t.Errorf("want the unsettled orders last seen as %v, have %v", want, rep.UnsettledLastSeen)
	}
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if want := "unsettled 3 (last seen Declined 1, Processing 2)"; !strings.Contains(text.String(), want) {
		t.Errorf("want the text to say %q, have\n%s", want, text.String())
	}
}

func TestProcessCPUTimeReadsThisProcess(t *testing.T) {
	before, err := loadgen.ProcessCPUTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		now, _ := loadgen.ProcessCPUTime(os.Getpid())
		if now > before {
			return
		}
		for i := 0; i < 1_000_000; i++ { // burn some CPU
			_ = fmt.Sprint(i)
		}
	}
	t.Error("the CPU time of a busy process never grew")
}

func TestServerSettleReadsEachOrdersOwnTimesInEitherSpelling(t *testing.T) {
	for _, names := range [][2]string{{"createdAt", "updatedAt"}, {"created_at", "updated_at"}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// Order oN settled N ms after it was created.
			n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/orders/one/o"))
			created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			json.NewEncoder(w).Encode(map[string]any{"ok": true, "order": map[string]any{
				names[0]: created, names[1]: created.Add(time.Duration(n) * time.Millisecond),
			}})
		}))
		ids := make([]string, 100)
		for i := range ids {
			ids[i] = fmt.Sprintf("o%d", i+1)
		}
		p, err := loadgen.ServerSettle(context.Background(), srv.Client(), srv.URL, ids, 100)
		srv.Close()
		if err != nil || p.P50 < 49 || p.P50 > 51 || p.Max != 100 {
			t.Errorf("%s: want the median near 50 ms and the slowest 100 ms, have %+v (%v)", names[0], p, err)
		}
	}
}

func TestServerSettleFailsOnAnOrderWithoutItsTimes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"ok":true,"order":{"id":"o1"}}`)
	}))
	defer srv.Close()
	if _, err := loadgen.ServerSettle(context.Background(), srv.Client(), srv.URL, []string{"o1"}, 10); err == nil {
		t.Error("want an error for an order without createdAt and updatedAt, have none")
	}
}
