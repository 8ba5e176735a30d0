// Package order is ordersvc's domain and use cases: an order's lifecycle
// (order.go), the Service the order API calls and the payment events it
// applies (service.go), and the ports it needs: a Repository, an outbox
// (Scheduler) and Events. It links no driver and speaks no HTTP; package
// orderapi serves it, orderstore stores it and orderevents carries its events.
package order

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/internal/keyedlock"
	"github.com/orderflow/orderflow/internal/objectid"
	"github.com/orderflow/orderflow/internal/telemetry"
	"github.com/orderflow/orderflow/transport/correlation"
)

// Service is the order API the gateway calls.
type Service interface {
	// CreateOrder stores a new order and asks for its payment. A retry with
	// the same idempotency key returns the first answer again, the order as
	// it was created, and replayed true.
	CreateOrder(ctx context.Context, n NewOrder) (o Order, replayed bool, err error)
	GetOrder(ctx context.Context, id string) (Order, error)
	// ListOrders returns a page of the user's orders, newest first. An empty
	// cursor starts at the newest; limit 0 means DefaultLimit.
	ListOrders(ctx context.Context, userID, cursor string, limit int) (Page, error)
	// SetStatus moves an order to Cancelled or Confirmed.
	SetStatus(ctx context.Context, id string, to Status) (Order, error)
}

// PaymentEvents is what ordersvc does with paymentsvc's events: each is
// applied once, and a duplicate or stale one changes nothing.
type PaymentEvents interface {
	ApplyPayment(ctx context.Context, p PaymentOutcome) error
	ApplyRefund(ctx context.Context, orderID, correlationID string) error
}

// Page is one page of a user's orders.
type Page struct {
	Orders []Order
	// NextCursor continues the list; empty on the last page.
	NextCursor string
}

// Page sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// Errors of the Service's callers.
var (
	ErrNotFound             = errors.New("order not found")
	ErrInvalidID            = errors.New("order id is not 24 hexadecimal digits")
	ErrInvalidUserID        = errors.New("user id is not 1 to 64 characters of A-Z, a-z, 0-9, _ or -")
	ErrInvalidCursor        = errors.New("cursor was not made by EncodeCursor")
	ErrInvalidLimit         = errors.New("limit is not from 1 to MaxLimit")
	ErrIdempotencyKeyReused = errors.New("idempotency key already used by this user for a different request")
)

// Events announces orders to paymentsvc. Each method returns how many
// subscribers received the announcement.
type Events interface {
	OrderCreated(ctx context.Context, o Order) (receivers int64, err error)
	OrderCancelled(ctx context.Context, o Order) (receivers int64, err error)
}

// Backoff says how long to wait before the n-th redelivery (n from 0).
type Backoff struct {
	Min, Max time.Duration
}

// Delay returns the wait before redelivery n: Min doubled n times, at most Max.
func (b Backoff) Delay(n int) time.Duration {
	d := b.Min
	for i := 0; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// outboxPatience is how long an outbox entry is kept for an order that does
// not await what the entry says yet: an entry is written before the order
// (or the change) that makes it true, so the order may be on its way; after
// this long, its write failed.
const outboxPatience = 5 * time.Minute

// Orders implements Service, and applies the payment events that
// paymentsvc publishes. Work on one order is serialised inside the process;
// across processes, the repository's numbered changes keep it consistent.
type Orders struct {
	repo    Repository
	outbox  Scheduler
	events  Events
	backoff Backoff
	logger  log.Logger
	now     func() time.Time
	locks   keyedlock.Locks
}

// NewService returns an Orders.
func NewService(repo Repository, outbox Scheduler, events Events, backoff Backoff, logger log.Logger, opts ...Option) *Orders {
	s := &Orders{
		repo:    repo,
		outbox:  outbox,
		events:  events,
		backoff: backoff,
		logger:  logger,
		now:     time.Now,
	}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// Option configures an Orders.
type Option func(*Orders)

// WithClock makes the service read the time from now, which tests move on.
func WithClock(now func() time.Time) Option {
	return func(s *Orders) { s.now = now }
}

// clock is the time as orders keep it: UTC, to the millisecond.
func (s *Orders) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// CreateOrder implements Service.
func (s *Orders) CreateOrder(ctx context.Context, n NewOrder) (Order, bool, error) {
	if err := n.Validate(); err != nil {
		return Order{}, false, err
	}
	if n.IdempotencyKey == "" {
		o, err := s.create(ctx, n, objectid.New(), false)
		return o, false, err
	}
	defer s.locks.Lock("key/" + n.UserID + "/" + n.IdempotencyKey)()
	hash := RequestHash(n)
	for attempt := 0; attempt < 5; attempt++ {
		// Most keys are new: claim first, read only when it is taken.
		k := KeyClaim{UserID: n.UserID, Key: n.IdempotencyKey, OrderID: objectid.New(), RequestHash: hash, CreatedAt: s.clock()}
		err := s.repo.ClaimKey(ctx, k)
		if err == nil {
			o, err := s.create(ctx, n, k.OrderID, false)
			if errors.Is(err, ErrDuplicate) { // a retry in another replica stored it first
				continue
			}
			return o, false, err
		}
		if !errors.Is(err, ErrDuplicate) {
			return Order{}, false, err
		}
		switch k, err = s.repo.Key(ctx, n.UserID, n.IdempotencyKey); {
		case err != nil:
			return Order{}, false, err
		case k.RequestHash != hash:
			return Order{}, false, ErrIdempotencyKeyReused
		}
		o, err := s.repo.Get(ctx, k.OrderID)
		switch {
		case err == nil:
			return o.AsCreated(), true, nil
		case !errors.Is(err, ErrNotFound):
			return Order{}, false, err
		}
		// The key names an order not stored: its request is still at it
		// (in another replica), or died. Store the order under that id:
		// whichever of the requests stores it second finds it there, and
		// replays it.
		o, err = s.create(ctx, n, k.OrderID, true)
		if errors.Is(err, ErrDuplicate) {
			continue
		}
		return o, false, err
	}
	return Order{}, false, fmt.Errorf("%w: Idempotency-Key %q", ErrConflict, n.IdempotencyKey)
}

// create stores the order n asks for under id, and asks for its payment;
// resume when an earlier request with the same key began to.
func (s *Orders) create(ctx context.Context, n NewOrder, id string, resume bool) (Order, error) {
	now := s.clock()
	o := Order{
		ID:             id,
		UserID:         n.UserID,
		ProductID:      n.ProductID,
		ProductName:    n.ProductName,
		Amount:         n.Amount,
		Status:         Processing,
		PaymentStatus:  Pending,
		CreatedAt:      now,
		UpdatedAt:      now,
		CorrelationID:  correlation.FromContext(ctx),
		IdempotencyKey: n.IdempotencyKey,
		RequestHash:    RequestHash(n),
	}
	// The order is announced again until paymentsvc answers. The outbox
	// knows of it before it exists, so no stored order goes unannounced.
	schedule := func(ctx context.Context) error {
		return s.outbox.Schedule(ctx, now.Add(s.backoff.Delay(0)), OutboxEntry{OrderID: id, Awaits: Pending, Since: now})
	}
	store := s.repo.Create
	if resume {
		store = s.repo.Resume
	}
	if err := store(ctx, o, schedule); err != nil {
		return Order{}, err
	}
	// The order is stored: from here on the outbox guarantees the event,
	// so the client's answer does not depend on Redis.
	s.publish(ctx, o, "order stored", "user_id", o.UserID, "amount_sen", int64(o.Amount))
	return o, nil
}

// GetOrder implements Service.
func (s *Orders) GetOrder(ctx context.Context, id string) (Order, error) {
	if !ValidOrderID(id) {
		return Order{}, ErrInvalidID
	}
	return s.repo.Get(ctx, id)
}

// ListOrders implements Service.
func (s *Orders) ListOrders(ctx context.Context, userID, cursor string, limit int) (Page, error) {
	if !ValidUserID(userID) {
		return Page{}, ErrInvalidUserID
	}
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 || limit > MaxLimit {
		return Page{}, ErrInvalidLimit
	}
	from, err := DecodeCursor(userID, cursor)
	if err != nil {
		return Page{}, err
	}
	orders, next, err := s.repo.List(ctx, userID, from, limit)
	if err != nil {
		return Page{}, err
	}
	p := Page{Orders: orders}
	if next > 0 {
		p.NextCursor = EncodeCursor(userID, next)
	}
	return p, nil
}

// SetStatus implements Service.
func (s *Orders) SetStatus(ctx context.Context, id string, to Status) (Order, error) {
	if !ValidOrderID(id) {
		return Order{}, ErrInvalidID
	}
	defer s.locks.Lock(id)()
	return s.change(ctx, id, "status set", []any{"asked", to}, func(o Order, now time.Time) (Order, bool, error) {
		next, err := o.SetStatus(to, now)
		// The events this change causes (a refund) carry this request's id.
		if cid := correlation.FromContext(ctx); cid != "" {
			next.CorrelationID = cid
		}
		return next, next.State() != o.State(), err
	})
}

// ApplyPayment applies the outcome of an order's payment. Duplicate and stale
// outcomes change nothing.
func (s *Orders) ApplyPayment(ctx context.Context, p PaymentOutcome) error {
	defer s.locks.Lock(p.OrderID)()
	_, err := s.change(ctx, p.OrderID, "payment received", []any{"paid", p.Paid, "payment_id", p.PaymentID}, func(o Order, now time.Time) (Order, bool, error) {
		next, changed := o.ApplyPayment(p, now)
		return next, changed, nil
	})
	return err
}

// ApplyRefund records that an order's payment was refunded.
func (s *Orders) ApplyRefund(ctx context.Context, orderID, correlationID string) error {
	defer s.locks.Lock(orderID)()
	_, err := s.change(ctx, orderID, "refund received", nil, func(o Order, now time.Time) (Order, bool, error) {
		next, changed := o.ApplyRefund(now)
		return next, changed, nil
	})
	return err
}

// change applies f to the order and stores the result as its next version,
// reading the order again when another change took that version, and
// publishes what the new state asks for. It logs one line: what happened
// (why, with keyvals) and what the order became. The caller holds the
// order's lock.
//
// It starts from the version this process knows, if any, without asking the
// store: storing the next version succeeds only if that was the latest. An
// answer that changes nothing, or refuses, is only given from the latest
// version read from the store.
func (s *Orders) change(ctx context.Context, id, why string, keyvals []any, f func(Order, time.Time) (Order, bool, error)) (Order, error) {
	o, fresh := s.repo.Peek(id)
	fresh = !fresh
	for attempt := 0; ; attempt++ {
		if fresh {
			var err error
			if o, err = s.repo.Get(ctx, id); err != nil {
				return Order{}, err
			}
		}
		now := s.clock()
		next, changed, err := f(o, now)
		if err != nil || !changed {
			if !fresh {
				fresh = true
				continue
			}
			if err == nil {
				s.logger.Log(append([]any{"msg", why + "; nothing to change", "order_id", id, "correlation_id", o.CorrelationID,
					"state", fmt.Sprintf("%s/%s", o.Status, o.PaymentStatus)}, append(keyvals, telemetry.LogKeys(ctx)...)...)...)
			}
			return o, err
		}
		if next.PaymentStatus == Refunding && o.PaymentStatus != Refunding {
			// The refund is announced again until paymentsvc answers; the
			// outbox knows of it before the change that starts it.
			if err := s.outbox.Schedule(ctx, now.Add(s.backoff.Delay(0)), OutboxEntry{OrderID: id, Awaits: Refunding, Since: now}); err != nil {
				return Order{}, err
			}
		}
		err = s.repo.Change(ctx, next)
		if errors.Is(err, ErrConflict) && attempt < 5 {
			fresh = true
			continue
		}
		if err != nil {
			return Order{}, err
		}
		kv := append([]any{"version", next.Version, "from", fmt.Sprintf("%s/%s", o.Status, o.PaymentStatus),
			"to", fmt.Sprintf("%s/%s", next.Status, next.PaymentStatus)}, keyvals...)
		if next.PaymentStatus == Refunding {
			s.publish(ctx, next, why+"; order updated", kv...)
		} else {
			s.logger.Log(append([]any{"msg", why + "; order updated", "order_id", id, "correlation_id", next.CorrelationID}, append(kv, telemetry.LogKeys(ctx)...)...)...)
		}
		return next, nil
	}
}

// publish announces what the order awaits: its payment while Pending, its
// refund while Refunding. It logs one line: msg and keyvals, and how the
// announcement went; a failure is left to the outbox.
func (s *Orders) publish(ctx context.Context, o Order, msg string, keyvals ...any) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	channel, publish := "orders.created", s.events.OrderCreated
	if o.PaymentStatus == Refunding {
		channel, publish = "orders.cancelled", s.events.OrderCancelled
	}
	n, err := publish(ctx, o)
	kv := append(append([]any{"msg", msg, "order_id", o.ID, "correlation_id", o.CorrelationID}, telemetry.LogKeys(ctx)...), keyvals...)
	kv = append(kv, "channel", channel, "receivers", n)
	switch {
	case err != nil:
		kv = append(kv, "err", err, "then", "the outbox will publish again")
	case n == 0:
		kv = append(kv, "then", "published to no subscriber; the outbox will publish again")
	}
	s.logger.Log(kv...)
}

// Redelivery is what became of an outbox entry whose time came.
type Redelivery struct {
	// Republished is true when the order's event was published again.
	Republished bool
	// Keep is true when the entry stays, as Next, due at At.
	Keep bool
	Next OutboxEntry
	At   time.Time
}

// Redeliver handles an outbox entry whose time came: while the order still
// awaits what the entry says, it publishes the order's event again and
// keeps the entry for later; once answered, it lets the entry go.
func (s *Orders) Redeliver(ctx context.Context, e OutboxEntry) (Redelivery, error) {
	if o, ok := s.repo.Peek(e.OrderID); ok && o.Answered(e.Awaits) {
		return Redelivery{}, nil
	}
	defer s.locks.Lock(e.OrderID)()
	o, err := s.repo.Get(ctx, e.OrderID)
	now := s.clock()
	next := e
	next.Attempt++
	again := Redelivery{Keep: true, Next: next, At: now.Add(s.backoff.Delay(next.Attempt))}
	switch {
	case errors.Is(err, ErrNotFound) || (err == nil && o.PaymentStatus != e.Awaits && !o.Answered(e.Awaits)):
		// The order, or the change that makes it await this, is written
		// after the entry: on its way, or failed.
		if now.Sub(e.Since) < outboxPatience {
			return again, nil
		}
		s.logger.Log("msg", "outbox entry dropped: what it awaits never began", "order_id", e.OrderID, "awaits", e.Awaits, "since", e.Since.Format(time.RFC3339))
		return Redelivery{}, nil
	case err != nil:
		return Redelivery{}, err
	case o.Answered(e.Awaits):
		return Redelivery{}, nil
	}
	s.publish(ctx, o, "published again", "attempt", next.Attempt)
	again.Republished = true
	return again, nil
}

// RequestHash identifies a create request by its normalised content, so
// "RM 12.50" and 12.5 are the same request.
func RequestHash(n NewOrder) string {
	h := sha256.New()
	for _, f := range []string{n.UserID, n.ProductID, n.ProductName, strconv.FormatInt(int64(n.Amount), 10)} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// EncodeCursor returns the opaque cursor of a position in the user's list.
// It names the user too, so that it continues no other user's list.
func EncodeCursor(userID string, p Position) string {
	return base64.RawURLEncoding.EncodeToString([]byte("n" + strconv.FormatInt(int64(p), 10) + "." + cursorTag(userID)))
}

// DecodeCursor reads a cursor EncodeCursor made for the user; "" is the
// start of the list.
func DecodeCursor(userID, c string) (Position, error) {
	if c == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(c)
	if err != nil {
		return 0, ErrInvalidCursor
	}
	pos, tag, found := strings.Cut(string(b), ".")
	digits, ok := strings.CutPrefix(pos, "n")
	n, err := strconv.ParseInt(digits, 10, 64)
	if !found || !ok || err != nil || n < 1 || strconv.FormatInt(n, 10) != digits || tag != cursorTag(userID) {
		return 0, ErrInvalidCursor
	}
	return Position(n), nil
}

// cursorTag names a user in a cursor: the first 8 bytes of the SHA-256 of
// the user id.
func cursorTag(userID string) string {
	sum := sha256.Sum256([]byte(userID))
	return hex.EncodeToString(sum[:8])
}
