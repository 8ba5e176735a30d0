// Package order is ordersvc's domain and use cases: an order's lifecycle
// (order.go), the Service the order API calls and the payment events it
// applies (service.go), the announcements the outbox makes again
// (redeliverer.go), and the ports they need: a Repository and an Outbox
// (repository.go) and Events. It links no driver, speaks no HTTP and knows
// no transport; package orderapi serves it, orderstore stores it and
// orderevents carries its events.
//
// An order from POST to Paid:
//
//	CreateOrder   the order and its outbox entry are stored, then the
//	              order is announced (Events.OrderCreated)
//	              ... paymentsvc charges it and reports the outcome ...
//	ApplyPayment  the order becomes Success/Paid (or Failed/Declined); it
//	              awaits nothing more, and leaves the outbox
//
// Had the announcement or the outcome been lost, the Redeliverer would have
// announced the order again when its outbox entry came due.
package order

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/internal/correlation"
	"github.com/orderflow/orderflow/internal/keyedlock"
	"github.com/orderflow/orderflow/internal/objectid"
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
// applied once, and a duplicate or stale one changes nothing. Both return
// the order as it is then.
type PaymentEvents interface {
	ApplyPayment(ctx context.Context, p PaymentOutcome) (Order, error)
	ApplyRefund(ctx context.Context, orderID string) (Order, error)
}

// Events announces orders to paymentsvc. An announcement may be lost on
// its way: the outbox makes it again until paymentsvc answers.
type Events interface {
	OrderCreated(ctx context.Context, o Order) error
	OrderCancelled(ctx context.Context, o Order) error
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
	ErrInvalidCursor        = errors.New("cursor was not given by an earlier page of this user's list")
	ErrInvalidLimit         = errors.New("limit is not from 1 to MaxLimit")
	ErrIdempotencyKeyReused = errors.New("idempotency key already used by this user for a different request")
)

// Orders implements Service and PaymentEvents.
type Orders struct {
	repo   Repository
	events Events
	logger log.Logger
	now    func() time.Time
	keys   keyedlock.Locks // one request with a given Idempotency-Key at a time
}

// NewService returns an Orders that keeps orders in repo and announces them
// with events. It logs what a caller cannot see: announcements that failed.
func NewService(repo Repository, events Events, logger log.Logger, opts ...Option) *Orders {
	s := &Orders{repo: repo, events: events, logger: logger, now: time.Now}
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
	o := s.newOrder(ctx, n)
	if n.IdempotencyKey == "" {
		created, err := s.create(ctx, o)
		return created, false, err
	}
	defer s.keys.Lock(n.UserID + "/" + n.IdempotencyKey)()
	claim, err := s.repo.ClaimKey(ctx, KeyClaim{
		UserID: n.UserID, Key: n.IdempotencyKey, OrderID: o.ID, RequestHash: o.RequestHash, CreatedAt: s.clock(),
	})
	switch {
	case err != nil:
		return Order{}, false, err
	case claim.RequestHash != o.RequestHash:
		return Order{}, false, ErrIdempotencyKeyReused
	case claim.OrderID == o.ID: // the key is this request's
		created, err := s.create(ctx, o)
		if !errors.Is(err, ErrDuplicate) {
			return created, false, err
		}
		// A retry in another replica finished it first.
	default: // an earlier request with the key named the order
		switch first, err := s.repo.Get(ctx, claim.OrderID); {
		case err == nil:
			return first.AsCreated(), true, nil
		case !errors.Is(err, ErrNotFound):
			return Order{}, false, err
		}
		// That request died before it stored the order, or is storing it
		// in another replica: store it under the id it claimed. Whichever
		// of the two stores it second finds it there.
		o.ID = claim.OrderID
		if created, err := s.create(ctx, o); !errors.Is(err, ErrDuplicate) {
			return created, false, err
		}
	}
	switch first, err := s.repo.Get(ctx, claim.OrderID); {
	case err == nil:
		return first.AsCreated(), true, nil
	case errors.Is(err, ErrNotFound): // refused as stored, then not found: the store is not itself
		return Order{}, false, fmt.Errorf("%w: order %s refused as stored, then not found", ErrUnavailable, claim.OrderID)
	default:
		return Order{}, false, err
	}
}

// newOrder returns the order n asks for, Processing and Pending; create
// stamps its times.
func (s *Orders) newOrder(ctx context.Context, n NewOrder) Order {
	return Order{
		ID:             objectid.New(),
		UserID:         n.UserID,
		ProductID:      n.ProductID,
		ProductName:    n.ProductName,
		Amount:         n.Amount,
		Status:         Processing,
		PaymentStatus:  Pending,
		CorrelationID:  correlation.FromContext(ctx),
		IdempotencyKey: n.IdempotencyKey,
		RequestHash:    RequestHash(n),
	}
}

// create stores the order with its outbox entry, then asks for its
// payment, and returns the order as stored. The order is created when its
// first document is written: its Idempotency-Key, if any, was claimed
// before. Once the order is stored, the outbox guarantees the event, so the
// client's answer does not depend on Redis.
func (s *Orders) create(ctx context.Context, o Order) (Order, error) {
	o.CreatedAt = s.clock()
	o.UpdatedAt = o.CreatedAt
	if err := s.repo.Create(ctx, o, OutboxEntry{OrderID: o.ID, Awaits: Pending, Since: o.CreatedAt}); err != nil {
		return o, err
	}
	s.announce(ctx, o, 0)
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
	orders, next, err := s.repo.List(ctx, userID, cursor, limit)
	return Page{Orders: orders, NextCursor: next}, err
}

// SetStatus implements Service. The refund a cancel starts carries the
// cancel's correlation id.
func (s *Orders) SetStatus(ctx context.Context, id string, to Status) (Order, error) {
	if !ValidOrderID(id) {
		return Order{}, ErrInvalidID
	}
	return s.update(ctx, id, func(o Order, now time.Time) (Order, error) {
		next, err := o.SetStatus(to, now)
		if cid := correlation.FromContext(ctx); cid != "" && next.Version != o.Version {
			next.CorrelationID = cid
		}
		return next, err
	})
}

// ApplyPayment implements PaymentEvents: only a Pending payment takes an
// outcome. A cancelled order whose payment comes back Paid is refunded.
func (s *Orders) ApplyPayment(ctx context.Context, p PaymentOutcome) (Order, error) {
	return s.update(ctx, p.OrderID, func(o Order, now time.Time) (Order, error) {
		return o.ApplyPayment(p, now), nil
	})
}

// ApplyRefund implements PaymentEvents.
func (s *Orders) ApplyRefund(ctx context.Context, orderID string) (Order, error) {
	return s.update(ctx, orderID, func(o Order, now time.Time) (Order, error) {
		return o.ApplyRefund(now), nil
	})
}

// update changes the order by change. An order that starts to await
// paymentsvc (a refund) gets an outbox entry with the change, and is
// announced once the change is stored.
func (s *Orders) update(ctx context.Context, id string, change func(Order, time.Time) (Order, error)) (Order, error) {
	var before Order
	o, err := s.repo.Update(ctx, id, func(o Order) (Order, *OutboxEntry, error) {
		before = o
		next, err := change(o, s.clock())
		if err != nil {
			return o, nil, err
		}
		if awaits := next.Awaits(); awaits != "" && awaits != o.Awaits() {
			return next, &OutboxEntry{OrderID: id, Awaits: awaits, Since: next.UpdatedAt}, nil
		}
		return next, nil, nil
	})
	if err == nil && o.Awaits() != "" && o.Awaits() != before.Awaits() {
		s.announce(ctx, o, 0)
	}
	return o, err
}

// Redeliver announces again what o awaits, for the attempt-th time since
// the first: the outbox found its answer late.
func (s *Orders) Redeliver(ctx context.Context, o Order, attempt int) {
	s.announce(ctx, o, attempt)
}

// announce asks paymentsvc for what the order awaits: its payment while
// Pending, its refund while Refunding; attempt counts the announcements
// made again before (0: this is the first). A failure is logged and left
// to the outbox, which announces the order again; the first announcement
// made is said by the call's own log line.
func (s *Orders) announce(ctx context.Context, o Order, attempt int) {
	// A client that went away does not stop the announcement, nor does a
	// Redis that does not answer hold the client for long.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	channel, publish := "orders.created", s.events.OrderCreated
	if o.PaymentStatus == Refunding {
		channel, publish = "orders.cancelled", s.events.OrderCancelled
	}
	kv := []any{"order_id", o.ID, "correlation_id", o.CorrelationID, "channel", channel}
	if attempt > 0 {
		kv = append(kv, "attempt", attempt)
	}
	switch err := publish(ctx, o); {
	case err != nil:
		s.logger.Log(append(append([]any{"msg", "announcement failed; the outbox will make it again"}, kv...), "err", err)...)
	case attempt > 0:
		s.logger.Log(append([]any{"msg", "order announced again"}, kv...)...)
	}
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
