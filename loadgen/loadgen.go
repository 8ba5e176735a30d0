// Package loadgen drives the public order API as many careful clients would:
// each of Concurrency workers creates orders one after another, and every
// created order is polled on GET /orders/status/{id} until its payment is
// final. It measures what those clients see (how fast orders are taken, how
// long they take to settle, which answers fail) and, given the processes of
// the stack, how much CPU each of them spent per settled order.
package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Config says what load to send.
type Config struct {
	// BaseURL is the public API, such as http://localhost:7000.
	BaseURL string
	// Concurrency is how many workers create orders at once.
	Concurrency int
	// Duration bounds the load; Count, when positive, stops it after that
	// many orders were created. One of them must be set.
	Duration time.Duration
	Count    int
	// Rate, when positive, paces the workers together to at most that many
	// orders a second, so that two systems can be compared under the same
	// load rather than each under the load it can take.
	Rate float64
	// Users is how many distinct userIds the orders spread over.
	Users int
	// UserPrefix starts every userId, so that runs do not mix their users.
	UserPrefix string
	// Products weighs the productIds to order: product "1" is paid, any
	// other is declined by the demo payment rule.
	Products []Weighted
	// IdempotencyKeys sends a fresh Idempotency-Key with every order.
	IdempotencyKeys bool
	// Poll is how long after its creation an order's status is first
	// asked; each wait after doubles, up to PollMax, until the order is
	// final. Zero creates orders without following them.
	Poll    time.Duration
	PollMax time.Duration
	// Drain is how long, after the load, pending orders still get to settle.
	Drain time.Duration
	// Final lists the orderStatus values that end the polling.
	Final []string
	// Processes whose CPU to report, by name.
	Processes []Process
	// Progress, when set, gets a line every second.
	Progress io.Writer
	// Client sends the requests; nil makes one fit for Concurrency.
	Client *http.Client
}

// Weighted is a productId and its share of the orders.
type Weighted struct {
	ProductID string
	Weight    int
}

// Process is a process of the stack whose CPU time is read from /proc.
type Process struct {
	Name string
	PID  int
}

// Report is what a run measured. Durations are in milliseconds.
type Report struct {
	Concurrency   int     `json:"concurrency"`
	Seconds       float64 `json:"seconds"`
	Created       int     `json:"created"`
	CreatedPerSec float64 `json:"createdPerSecond"`
	Settled       int     `json:"settled"`
	Unsettled     int     `json:"unsettled"`
	// UnsettledLastSeen counts the unsettled orders by the orderStatus
	// their last answered poll gave ("" for none answered): a status there
	// that is final for the system measured belongs in Config.Final.
	UnsettledLastSeen map[string]int `json:"unsettledLastSeen,omitempty"`
	Post              Percentiles    `json:"postMs"`
	Settle            Percentiles    `json:"settleMs"`
	Polls             int            `json:"polls"`
	Errors            map[string]int `json:"errors"`
	CPU               []ProcessCPU   `json:"cpu,omitempty"`
	// ServerSettle is, when ServerSettle was asked, how long the settled
	// orders took by their own times: created to last changed, as stored.
	ServerSettle *Percentiles `json:"serverSettleMs,omitempty"`
	// SettledIDs are the ids of the settled orders.
	SettledIDs []string `json:"-"`
}

// Percentiles of a latency, in milliseconds.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// ProcessCPU is the CPU a process spent during the run.
type ProcessCPU struct {
	Name string `json:"name"`
	// Ms is the user and system CPU time of the whole run, drain included.
	Ms float64 `json:"ms"`
	// MsPerSettled divides it by the settled orders (created ones when
	// orders are not followed).
	MsPerSettled float64 `json:"msPerSettled"`
}

// ErrorCount is the total of the report's errors.
func (r Report) ErrorCount() int {
	n := 0
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// DefaultFinal are the statuses in which an order's payment is settled.
var DefaultFinal = []string{"Success", "Failed"}

// Run sends the load of cfg until it is done or ctx is cancelled, and
// reports what it measured.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.check(); err != nil {
		return Report{}, err
	}
	r := newRun(cfg)
	return r.run(ctx)
}

func (c *Config) check() error {
	switch {
	case c.BaseURL == "":
		return errors.New("a base URL is required")
	case c.Concurrency < 1:
		return errors.New("concurrency must be at least 1")
	case c.Duration <= 0 && c.Count <= 0:
		return errors.New("a duration or a count is required")
	case c.Rate < 0:
		return errors.New("rate must not be negative")
	case c.Users < 1:
		return errors.New("users must be at least 1")
	case len(c.Products) == 0:
		return errors.New("at least one product is required")
	}
	for _, p := range c.Products {
		if p.Weight < 1 {
			return fmt.Errorf("product %q: weight must be at least 1", p.ProductID)
		}
	}
	if c.PollMax < c.Poll {
		c.PollMax = c.Poll
	}
	if len(c.Final) == 0 {
		c.Final = DefaultFinal
	}
	if c.Client == nil {
		c.Client = &http.Client{
			Timeout: 30 * time.Second,
			Transport: &http.Transport{
				MaxIdleConns:        0,
				MaxIdleConnsPerHost: 4*c.Concurrency + 64,
				IdleConnTimeout:     30 * time.Second,
			},
		}
	}
	c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
	return nil
}

type run struct {
	cfg   Config
	total int // sum of product weights

	created, settled, pending, posting atomic.Int64
	polls                              atomic.Int64

	mu       sync.Mutex
	post     []time.Duration
	settle   []time.Duration
	ids      []string // of the settled orders
	errors   map[string]int
	lastSeen map[string]int // unsettled orders by the last status polled
	pollers  sync.WaitGroup
}

func newRun(cfg Config) *run {
	r := &run{cfg: cfg, errors: map[string]int{}, lastSeen: map[string]int{}}
	for _, p := range cfg.Products {
		r.total += p.Weight
	}
	return r
}

func (r *run) run(ctx context.Context) (Report, error) {
	before, err := readCPU(r.cfg.Processes)
	if err != nil {
		return Report{}, err
	}
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	if r.cfg.Duration > 0 {
		loadCtx, stopLoad = context.WithTimeout(loadCtx, r.cfg.Duration)
		defer stopLoad()
	}
	pollCtx, stopPolls := context.WithCancel(ctx)
	defer stopPolls()

	progressDone := make(chan struct{})
	if r.cfg.Progress != nil {
		go r.progress(pollCtx, progressDone)
	} else {
		close(progressDone)
	}

	begin := time.Now()
	var workers sync.WaitGroup
	var seq atomic.Int64
	pace := rate.NewLimiter(rate.Inf, 0)
	if r.cfg.Rate > 0 {
		pace = rate.NewLimiter(rate.Limit(r.cfg.Rate), 1)
	}
	for w := range r.cfg.Concurrency {
		rng := rand.New(rand.NewPCG(uint64(w), uint64(begin.UnixNano())))
		workers.Go(func() {
			for pace.Wait(loadCtx) == nil {
				n := seq.Add(1)
				if r.cfg.Count > 0 && n > int64(r.cfg.Count) {
					return
				}
				r.createOne(loadCtx, pollCtx, rng, n)
			}
		})
	}
	workers.Wait()
	loadTime := time.Since(begin)

	// The load is over: give pending orders the drain time to settle.
	drained := make(chan struct{})
	go func() { r.pollers.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(r.cfg.Drain):
	case <-ctx.Done():
	}
	stopPolls()
	r.pollers.Wait()
	<-progressDone

	after, err := readCPU(r.cfg.Processes)
	if err != nil {
		return Report{}, err
	}
	return r.report(loadTime, before, after), ctx.Err()
}

// createOne posts one order and, when it was created, follows it.
func (r *run) createOne(loadCtx, pollCtx context.Context, rng *rand.Rand, n int64) {
	body, _ := json.Marshal(map[string]any{
		"userId":           fmt.Sprintf("%s%d", r.cfg.UserPrefix, rng.IntN(r.cfg.Users)),
		"productId":        r.product(rng),
		"productName":      "Keyboard",
		"totalOrderAmount": fmt.Sprintf("RM %d.%02d", 1+rng.IntN(500), rng.IntN(100)),
	})
	req, err := http.NewRequestWithContext(loadCtx, http.MethodPost, r.cfg.BaseURL+"/orders", bytes.NewReader(body))
	if err != nil {
		r.fail("request")
		return
	}
	req.Header.Set("Content-Type", "application/json")
	if r.cfg.IdempotencyKeys {
		req.Header.Set("Idempotency-Key", fmt.Sprintf("loadgen-%d-%d", time.Now().UnixNano(), n))
	}
	r.posting.Add(1)
	defer r.posting.Add(-1)
	begin := time.Now()
	resp, err := r.cfg.Client.Do(req)
	if err != nil {
		if loadCtx.Err() == nil {
			r.fail("transport")
		}
		return
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(begin)
	if resp.StatusCode != http.StatusCreated {
		r.fail(strconv.Itoa(resp.StatusCode))
		return
	}
	id := createdID(raw)
	if id == "" {
		r.fail("201 without an id")
		return
	}
	r.created.Add(1)
	r.mu.Lock()
	r.post = append(r.post, took)
	r.mu.Unlock()
	if r.cfg.Poll > 0 {
		r.pending.Add(1)
		r.pollers.Go(func() { r.follow(pollCtx, id, begin) })
	}
}

func (r *run) product(rng *rand.Rand) string {
	n := rng.IntN(r.total)
	for _, p := range r.cfg.Products {
		if n < p.Weight {
			return p.ProductID
		}
		n -= p.Weight
	}
	return r.cfg.Products[0].ProductID
}

// follow polls the order's status until it is final, and records how long
// it took from the POST.
func (r *run) follow(ctx context.Context, id string, posted time.Time) {
	defer r.pending.Add(-1)
	wait := r.cfg.Poll
	t := time.NewTimer(wait)
	defer t.Stop()
	last := ""
	for {
		select {
		case <-ctx.Done():
			r.mu.Lock()
			r.lastSeen[last]++
			r.mu.Unlock()
			return
		case <-t.C:
		}
		wait = min(2*wait, r.cfg.PollMax)
		t.Reset(wait)
		status, ok := r.status(ctx, id)
		if !ok {
			continue
		}
		last = status
		if slices.Contains(r.cfg.Final, status) {
			took := time.Since(posted)
			r.settled.Add(1)
			r.mu.Lock()
			r.settle = append(r.settle, took)
			r.ids = append(r.ids, id)
			r.mu.Unlock()
			return
		}
	}
}

// status asks for the order's status; a failed poll is counted and retried
// by the caller.
func (r *run) status(ctx context.Context, id string) (string, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.cfg.BaseURL+"/orders/status/"+id, nil)
	if err != nil {
		return "", false
	}
	r.polls.Add(1)
	resp, err := r.cfg.Client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			r.fail("poll transport")
		}
		return "", false
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		r.fail("poll " + strconv.Itoa(resp.StatusCode))
		return "", false
	}
	var b struct {
		OrderStatus string `json:"orderStatus"`
	}
	if json.Unmarshal(raw, &b) != nil {
		r.fail("poll body")
		return "", false
	}
	return b.OrderStatus, true
}

// createdID reads the new order's id from a 201: {"created":{"id":ID}}, or
// an "id" or "_id" at the top or in "order".
func createdID(raw []byte) string {
	var b struct {
		ID      string `json:"id"`
		MongoID string `json:"_id"`
		Created struct {
			ID string `json:"id"`
		} `json:"created"`
		Order struct {
			ID      string `json:"id"`
			MongoID string `json:"_id"`
		} `json:"order"`
	}
	if json.Unmarshal(raw, &b) != nil {
		return ""
	}
	for _, id := range []string{b.Created.ID, b.ID, b.MongoID, b.Order.ID, b.Order.MongoID} {
		if id != "" {
			return id
		}
	}
	return ""
}

func (r *run) fail(kind string) {
	r.mu.Lock()
	r.errors[kind]++
	r.mu.Unlock()
}

func (r *run) errorCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.errors {
		n += c
	}
	return n
}

// progress writes a line a second until ctx is done.
func (r *run) progress(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	begin, last := time.Now(), int64(0)
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			created := r.created.Load()
			fmt.Fprintf(r.cfg.Progress, "%5.0fs  created %7d  settled %7d  pending %6d  errors %5d  rate %6.1f/s\n",
				now.Sub(begin).Seconds(), created, r.settled.Load(), r.pending.Load(), r.errorCount(), float64(created-last))
			last = created
		}
	}
}

func (r *run) report(loadTime time.Duration, before, after []time.Duration) Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := Report{
		Concurrency: r.cfg.Concurrency,
		Seconds:     loadTime.Seconds(),
		Created:     int(r.created.Load()),
		Settled:     int(r.settled.Load()),
		Post:        percentiles(r.post),
		Settle:      percentiles(r.settle),
		Polls:       int(r.polls.Load()),
		Errors:      maps.Clone(r.errors),
		SettledIDs:  slices.Clone(r.ids),
	}
	rep.CreatedPerSec = float64(rep.Created) / loadTime.Seconds()
	if r.cfg.Poll > 0 {
		rep.Unsettled = rep.Created - rep.Settled
		if len(r.lastSeen) > 0 {
			rep.UnsettledLastSeen = maps.Clone(r.lastSeen)
		}
	}
	per := rep.Settled
	if r.cfg.Poll == 0 {
		per = rep.Created
	}
	for i, p := range r.cfg.Processes {
		ms := float64(after[i]-before[i]) / float64(time.Millisecond)
		c := ProcessCPU{Name: p.Name, Ms: ms}
		if per > 0 {
			c.MsPerSettled = ms / float64(per)
		}
		rep.CPU = append(rep.CPU, c)
	}
	return rep
}

// ServerSettle reads the orders of ids from the API at base, up to sample
// of them spread over the list, and returns how long they took to settle by
// their own times: from createdAt to updatedAt, as the store keeps them
// (created_at and updated_at in the NestJS original's API, so that it is
// measured the same way). A client's time to settle measures its polling
// too, and at high concurrency its own queue.
func ServerSettle(ctx context.Context, client *http.Client, base string, ids []string, sample int) (Percentiles, error) {
	step := max(1, len(ids)/max(sample, 1))
	var ds []time.Duration
	for i := 0; i < len(ids); i += step {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/orders/one/"+ids[i], nil)
		if err != nil {
			return Percentiles{}, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return Percentiles{}, err
		}
		var body struct {
			Order struct {
				CreatedAt time.Time `json:"createdAt"`
				UpdatedAt time.Time `json:"updatedAt"`
				Created   time.Time `json:"created_at"` // the original's names
				Updated   time.Time `json:"updated_at"`
			} `json:"order"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		o := body.Order
		if o.CreatedAt.IsZero() {
			o.CreatedAt, o.UpdatedAt = o.Created, o.Updated
		}
		if err == nil && (o.CreatedAt.IsZero() || o.UpdatedAt.IsZero()) {
			err = errors.New("the order has no createdAt and updatedAt")
		}
		if err != nil || resp.StatusCode != http.StatusOK {
			return Percentiles{}, fmt.Errorf("GET /orders/one/%s: %d %v", ids[i], resp.StatusCode, err)
		}
		ds = append(ds, o.UpdatedAt.Sub(o.CreatedAt))
	}
	return percentiles(ds), nil
}

func percentiles(ds []time.Duration) Percentiles {
	if len(ds) == 0 {
		return Percentiles{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) float64 {
		i := int(q*float64(len(s))+0.5) - 1
		i = min(max(i, 0), len(s)-1)
		return float64(s[i]) / float64(time.Millisecond)
	}
	return Percentiles{P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: float64(s[len(s)-1]) / float64(time.Millisecond)}
}
