// Package ordersvc owns orders: it stores them in MongoDB, moves them along
// their lifecycle, announces them to paymentsvc and applies what paymentsvc
// reports back.
package ordersvc

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
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/orderflow/orderflow/internal/platform"
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

// Errors the API reports to clients.
var (
	ErrNotFound             = errors.New("order not found")
	ErrInvalidID            = errors.New("order id must be 24 hexadecimal characters")
	ErrInvalidUserID        = errors.New("userId " + msgIDFormat)
	ErrInvalidCursor        = errors.New("cursor is not one this API returned")
	ErrInvalidLimit         = errors.New("limit must be a whole number from 1 to 200")
	ErrIdempotencyKeyReused = errors.New("Idempotency-Key was already used by this user with a different request")
)

// ValidationError lists the invalid fields of a request.
type ValidationError struct {
	Fields map[string]string
}

func (e *ValidationError) Error() string { return fmt.Sprintf("invalid fields: %v", e.Fields) }

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

// OrderService implements Service, and applies the payment events that
// paymentsvc publishes. Work on one order is serialised inside the process;
// across processes the repository's conditional updates keep it consistent.
type OrderService struct {
	repo    Repository
	events  Events
	backoff Backoff
	logger  log.Logger
	now     func() time.Time
	locks   platform.KeyedLocks
}

// NewService returns an OrderService.
func NewService(repo Repository, events Events, backoff Backoff, logger log.Logger) *OrderService {
	return &OrderService{
		repo:    repo,
		events:  events,
		backoff: backoff,
		logger:  logger,
		now:     func() time.Time { return time.Now().UTC().Truncate(time.Millisecond) },
	}
}

// CreateOrder implements Service.
func (s *OrderService) CreateOrder(ctx context.Context, n NewOrder) (Order, bool, error) {
	if fields := n.Validate(); fields != nil {
		return Order{}, false, &ValidationError{Fields: fields}
	}
	if n.IdempotencyKey == "" {
		return s.create(ctx, n, bson.NewObjectID().Hex())
	}
	defer s.locks.Lock(n.UserID + "/" + n.IdempotencyKey)()
	for attempt := 0; ; attempt++ {
		o, replayed, err := s.replay(ctx, n)
		id := bson.NewObjectID().Hex()
		switch {
		case errors.Is(err, ErrInProgress):
			// The key names an order not stored yet: its request is still
			// at it, or died. Store the order under that id: whichever of
			// the requests stores it second finds it there, and replays.
			id = o.ID
		case !errors.Is(err, ErrNotFound):
			return o, replayed, err
		}
		o, replayed, err = s.create(ctx, n, id)
		if errors.Is(err, ErrDuplicate) && attempt < 3 { // another request with the key got there first
			continue
		}
		return o, replayed, err
	}
}

// create stores the order n asks for under id, and asks for its payment.
func (s *OrderService) create(ctx context.Context, n NewOrder, id string) (Order, bool, error) {
	now := s.now()
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
		RequestHash:    requestHash(n),
	}
	s.schedule(&o, now)
	if err := s.repo.Create(ctx, o); err != nil {
		return Order{}, false, err
	}
	s.logger.Log("msg", "order stored", "order_id", o.ID, "correlation_id", o.CorrelationID, "user_id", o.UserID, "amount", o.Amount)

	// The order is stored: from here on the redeliverer guarantees the event,
	// so the client's answer does not depend on Redis.
	s.publish(ctx, o)
	return o, false, nil
}

// replay returns the order an earlier request with n's idempotency key
// created. While that order is not stored yet it returns its id with
// ErrInProgress.
func (s *OrderService) replay(ctx context.Context, n NewOrder) (Order, bool, error) {
	o, err := s.repo.GetByIdempotencyKey(ctx, n.UserID, n.IdempotencyKey)
	switch {
	case err != nil && !errors.Is(err, ErrInProgress):
		return Order{}, false, err
	case o.RequestHash != requestHash(n):
		return Order{}, false, ErrIdempotencyKeyReused
	case err != nil:
		return o, false, err
	}
	return o.AsCreated(), true, nil
}

// GetOrder implements Service.
func (s *OrderService) GetOrder(ctx context.Context, id string) (Order, error) {
	if !ValidOrderID(id) {
		return Order{}, ErrInvalidID
	}
	return s.repo.Get(ctx, id)
}

// ListOrders implements Service.
func (s *OrderService) ListOrders(ctx context.Context, userID, cursor string, limit int) (Page, error) {
	if !ValidUserID(userID) {
		return Page{}, ErrInvalidUserID
	}
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 || limit > MaxLimit {
		return Page{}, ErrInvalidLimit
	}
	after, err := DecodeCursor(cursor)
	if err != nil {
		return Page{}, err
	}
	orders, err := s.repo.List(ctx, userID, after, limit+1)
	if err != nil {
		return Page{}, err
	}
	var p Page
	if len(orders) > limit {
		orders = orders[:limit]
		last := orders[limit-1]
		p.NextCursor = EncodeCursor(Position{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	p.Orders = orders
	return p, nil
}

// SetStatus implements Service.
func (s *OrderService) SetStatus(ctx context.Context, id string, to Status) (Order, error) {
	if !ValidOrderID(id) {
		return Order{}, ErrInvalidID
	}
	defer s.locks.Lock(id)()
	return s.change(ctx, id, func(o Order, now time.Time) (Order, bool, error) {
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
func (s *OrderService) ApplyPayment(ctx context.Context, p PaymentOutcome) error {
	defer s.locks.Lock(p.OrderID)()
	s.logger.Log("msg", "payment received", "order_id", p.OrderID, "correlation_id", p.CorrelationID, "paid", p.Paid, "payment_id", p.PaymentID)
	_, err := s.change(ctx, p.OrderID, func(o Order, now time.Time) (Order, bool, error) {
		next, changed := o.ApplyPayment(p, now)
		return next, changed, nil
	})
	return err
}

// ApplyRefund records that an order's payment was refunded.
func (s *OrderService) ApplyRefund(ctx context.Context, orderID, correlationID string) error {
	defer s.locks.Lock(orderID)()
	s.logger.Log("msg", "refund received", "order_id", orderID, "correlation_id", correlationID)
	_, err := s.change(ctx, orderID, func(o Order, now time.Time) (Order, bool, error) {
		next, changed := o.ApplyRefund(now)
		return next, changed, nil
	})
	return err
}

// change applies f to the stored order with a conditional update, retrying
// when another writer got there first, and publishes what the new state asks
// for. The caller holds the order's lock.
func (s *OrderService) change(ctx context.Context, id string, f func(Order, time.Time) (Order, bool, error)) (Order, error) {
	for attempt := 0; ; attempt++ {
		o, err := s.repo.Get(ctx, id)
		if err != nil {
			return Order{}, err
		}
		now := s.now()
		next, changed, err := f(o, now)
		if err != nil || !changed {
			if err == nil {
				s.logger.Log("msg", "nothing to change", "order_id", id, "correlation_id", o.CorrelationID, "order_status", o.Status, "payment_status", o.PaymentStatus)
			}
			return o, err
		}
		s.schedule(&next, now)
		err = s.repo.Update(ctx, next, o.State())
		if errors.Is(err, ErrConflict) && attempt < 5 {
			continue
		}
		if err != nil {
			return Order{}, err
		}
		s.logger.Log("msg", "order updated", "order_id", id, "correlation_id", next.CorrelationID,
			"from", fmt.Sprintf("%s/%s", o.Status, o.PaymentStatus), "to", fmt.Sprintf("%s/%s", next.Status, next.PaymentStatus))
		if next.PaymentStatus == Refunding {
			s.publish(ctx, next)
		}
		return next, nil
	}
}

// schedule sets when the redeliverer publishes the order's awaited event
// again: one backoff step from now while it waits for paymentsvc, never
// otherwise.
func (s *OrderService) schedule(o *Order, now time.Time) {
	o.NextPublishAt, o.PublishAttempts = time.Time{}, 0
	if o.Awaiting() {
		o.NextPublishAt = now.Add(s.backoff.Delay(0))
	}
}

// publish announces what the order awaits: its payment while Pending, its
// refund while Refunding. A failure is logged and left to the redeliverer.
func (s *OrderService) publish(ctx context.Context, o Order) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	channel, publish := "orders.created", s.events.OrderCreated
	if o.PaymentStatus == Refunding {
		channel, publish = "orders.cancelled", s.events.OrderCancelled
	}
	n, err := publish(ctx, o)
	logger := log.With(s.logger, "order_id", o.ID, "correlation_id", o.CorrelationID, "channel", channel, "attempt", o.PublishAttempts)
	switch {
	case err != nil:
		logger.Log("msg", "publish failed; redelivery will retry", "retry_at", o.NextPublishAt.Format(time.RFC3339Nano), "err", err)
	case n == 0:
		logger.Log("msg", "published to no subscriber; redelivery will retry", "receivers", n, "retry_at", o.NextPublishAt.Format(time.RFC3339Nano))
	default:
		logger.Log("msg", "published", "receivers", n)
	}
}

// Redeliver publishes again the awaited event of a due order, once across all
// replicas: it first claims the order by moving its NextPublishAt. It
// reports whether this replica claimed it.
func (s *OrderService) Redeliver(ctx context.Context, o Order) (bool, error) {
	defer s.locks.Lock(o.ID)()
	attempts := o.PublishAttempts + 1
	next := s.now().Add(s.backoff.Delay(attempts))
	claimed, err := s.repo.Reschedule(ctx, o.ID, o.NextPublishAt, next, attempts)
	if err != nil || !claimed {
		return false, err
	}
	o.NextPublishAt, o.PublishAttempts = next, attempts
	s.publish(ctx, o)
	return true, nil
}

// requestHash identifies a create request by its normalised content, so
// "RM 12.50" and 12.5 are the same request.
func requestHash(n NewOrder) string {
	h := sha256.New()
	for _, f := range []string{n.UserID, n.ProductID, n.ProductName, strconv.FormatInt(int64(n.Amount), 10)} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// EncodeCursor returns the opaque cursor of a list position.
func EncodeCursor(p Position) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(p.CreatedAt.UnixMilli(), 10) + "." + p.ID))
}

// DecodeCursor reads a cursor EncodeCursor made; "" is the start of the list.
func DecodeCursor(c string) (Position, error) {
	if c == "" {
		return Position{}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return Position{}, ErrInvalidCursor
	}
	ms, id, ok := strings.Cut(string(b), ".")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || !ValidOrderID(id) {
		return Position{}, ErrInvalidCursor
	}
	return Position{CreatedAt: time.UnixMilli(n).UTC(), ID: id}, nil
}
