// Package orderstore is order.Repository and order.Outbox on a
// docstore.Database: MongoDB's in production, one in memory in fast tests,
// with the same code and so the same behaviour.
//
// Its shape comes from what both MongoDB and the embedded FerretDB make
// atomic and fast. FerretDB's SQLite backend reads a whole collection for
// any filter but an exact _id, and makes no conditional update atomic. So
// every document is inserted once under an _id that says what it is, every
// race is settled by which insert of an _id comes first, and every read
// names the document it wants:
//
//	order_changes  _id "<orderId>/0"          the order as created
//	               _id "<orderId>/<version>"  the order after each change
//	user_orders    _id "<userId>/<n>"         the user's n-th order, a copy as created
//	               _id "<userId>/p<k>"        a page: orders kP+1 to kP+P
//	               _id "<userId>/k/<key>"     the order an Idempotency-Key created
//	outbox         _id "<batch>/<n>"          orders that await paymentsvc (outbox.go)
//
// The latest version of an order is the highest of its changes: numbers are
// taken one after another, so a reader asks for the next one until it is
// missing, and of two replicas that change an order at once, the one whose
// insert of the next number comes second reads again and retries. A user's
// list is numbered the same way (list.go). Where one step writes two
// documents, the one that loses nothing is written first: an order's list
// entry and outbox entry before the order, the outbox entry of a refund
// before the change that starts it.
//
// What an order writes goes to few collections, because the inserts into
// one collection that arrive together go as one command (package
// mongostore): a creation and the outcome of another order share one, a
// key's claim and another user's list entry share one. A store an earlier
// version wrote also has an order's creation in "orders" (_id the order id)
// and keys in "idempotency_keys" (_id "<userId>/<key>"): the Store reads
// them there, and writes them only here.
//
// Each process remembers the latest versions of recent orders and the
// lengths of recent users' lists, so that it usually asks the store only
// whether there is a next one, and it changes one order at a time.
package orderstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/go-kit/log"
	lru "github.com/hashicorp/golang-lru/v2"
	"go.mongodb.org/mongo-driver/v2/bson"
	"golang.org/x/sync/errgroup"

	"github.com/orderflow/orderflow/internal/docstore"
	"github.com/orderflow/orderflow/internal/groupcommit"
	"github.com/orderflow/orderflow/internal/keyedlock"
	"github.com/orderflow/orderflow/ordersvc/order"
)

// Store is order.Repository and order.Outbox on a docstore.Database.
type Store struct {
	changes, lists, outbox docstore.Collection
	// Of a store an earlier version wrote; nil when it has none.
	legacyOrders, legacyKeys docstore.Collection

	backoff  Backoff
	patience time.Duration
	now      func() time.Time
	logger   log.Logger

	scheduler *groupcommit.Queue[order.OutboxEntry] // of the outbox's batches
	written   *lru.Cache[string, *written]          // the batch of each entry written here, by order id and what it awaits
	doneMu    sync.Mutex
	done      []string // batches written here, all answered here, for the next sweep to delete

	known   *lru.Cache[string, order.Order] // latest versions seen, by order id
	heads   *lru.Cache[string, position]    // list lengths seen, by user id
	recent  *lru.Cache[string, recentPage]  // the orders of each user's last page this process listed
	resumed *lru.Cache[string, struct{}]    // orders whose key was claimed before: their creation may have begun
	locks   keyedlock.Locks                 // one change per order, one list append per user at a time
}

// Sizes of what a Store remembers: some megabytes.
const (
	knownOrders = 20_000
	knownUsers  = 10_000
)

// Backoff says how long an outbox entry waits before its n-th announcement
// (n from 0, the first one made again).
type Backoff struct {
	Min, Max time.Duration
}

// Delay returns the wait before announcement n: Min doubled n times, at
// most Max.
func (b Backoff) Delay(n int) time.Duration {
	d := b.Min
	for i := 0; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// Option configures a Store.
type Option func(*Store)

// WithClock makes the Store read the time from now, which tests move on.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// DefaultPatience is how long an outbox entry waits, by default, for what
// it awaits to begin (see WithPatience).
const DefaultPatience = 5 * time.Minute

// WithPatience sets how long an outbox entry waits for what it awaits to
// begin. An entry is written before the order, or the change, that makes
// it true: until then, that write may be on its way; after this long, it
// failed, and the entry goes.
func WithPatience(d time.Duration) Option {
	return func(s *Store) { s.patience = d }
}

// NewStore returns the Store of db, creating its collections. Its outbox
// announces an order again after each of backoff's delays; it logs the
// entries it lets go unanswered to logger.
func NewStore(ctx context.Context, db docstore.Database, backoff Backoff, logger log.Logger, opts ...Option) (*Store, error) {
	// Created now: FerretDB fails some of the concurrent first inserts that
	// would create a collection.
	for _, c := range []struct {
		name    string
		indexed []string
	}{{"order_changes", nil}, {"user_orders", nil}, {"outbox", []string{"due"}}} {
		if err := db.CreateCollection(ctx, c.name, c.indexed...); err != nil {
			return nil, fmt.Errorf("create collection %s: %w", c.name, err)
		}
	}
	legacy := map[string]docstore.Collection{}
	for _, name := range []string{"orders", "idempotency_keys"} {
		switch ok, err := db.HasCollection(ctx, name); {
		case err != nil:
			return nil, fmt.Errorf("look for collection %s: %w", name, err)
		case ok:
			legacy[name] = db.Collection(name)
		}
	}
	known, _ := lru.New[string, order.Order](knownOrders)
	heads, _ := lru.New[string, position](knownUsers)
	recent, _ := lru.New[string, recentPage](knownUsers)
	resumed, _ := lru.New[string, struct{}](knownUsers)
	written, _ := lru.New[string, *written](knownOrders)
	s := &Store{
		changes:      db.Collection("order_changes"),
		lists:        db.Collection("user_orders"),
		outbox:       db.Collection("outbox"),
		legacyOrders: legacy["orders"],
		legacyKeys:   legacy["idempotency_keys"],
		backoff:      backoff,
		patience:     DefaultPatience,
		now:          time.Now,
		logger:       logger,
		known:        known,
		heads:        heads,
		recent:       recent,
		resumed:      resumed,
		written:      written,
	}
	for _, opt := range opts {
		opt(s)
	}
	s.scheduler = s.newScheduler()
	return s, nil
}

// orderFields are an order's fields as stored, its id aside.
type orderFields struct {
	UserID         string    `bson:"userId"`
	ProductID      string    `bson:"productId"`
	ProductName    string    `bson:"productName"`
	AmountSen      int64     `bson:"amountSen"`
	Currency       string    `bson:"currency"`
	OrderStatus    string    `bson:"orderStatus"`
	PaymentStatus  string    `bson:"paymentStatus"`
	PaymentID      string    `bson:"paymentId,omitempty"`
	DeclineReason  string    `bson:"declineReason,omitempty"`
	CorrelationID  string    `bson:"correlationId,omitempty"`
	CreatedAt      time.Time `bson:"createdAt"`
	UpdatedAt      time.Time `bson:"updatedAt"`
	IdempotencyKey string    `bson:"idempotencyKey,omitempty"`
	RequestHash    string    `bson:"requestHash"`
}

// createdDoc is an order as created: its version 0.
type createdDoc struct {
	ID     string      `bson:"_id"` // "<orderId>/0"
	Fields orderFields `bson:",inline"`
}

// legacyOrderDoc is an order as created in a store an earlier version
// wrote.
type legacyOrderDoc struct {
	ID     bson.ObjectID `bson:"_id"`
	Fields orderFields   `bson:",inline"`
}

// changeDoc is an order after one of its changes.
type changeDoc struct {
	ID            string    `bson:"_id"` // "<orderId>/<version>"
	OrderStatus   string    `bson:"orderStatus"`
	PaymentStatus string    `bson:"paymentStatus"`
	PaymentID     string    `bson:"paymentId,omitempty"`
	DeclineReason string    `bson:"declineReason,omitempty"`
	CorrelationID string    `bson:"correlationId,omitempty"`
	UpdatedAt     time.Time `bson:"updatedAt"`
}

// keyDoc is the claim of a user's Idempotency-Key.
type keyDoc struct {
	ID          string    `bson:"_id"` // "<userId>/k/<key>"
	OrderID     string    `bson:"orderId"`
	RequestHash string    `bson:"requestHash"`
	CreatedAt   time.Time `bson:"createdAt"`
}

// A userId has no "/", so these ids never mix two users' documents, and
// a key's ("k/") never meets a list's numbers or pages.
func changeID(orderID string, version int) string { return orderID + "/" + strconv.Itoa(version) }
func keyID(userID, key string) string             { return userID + "/k/" + key }
func legacyKeyID(userID, key string) string       { return userID + "/" + key }

func fieldsOf(o order.Order) orderFields {
	return orderFields{
		UserID: o.UserID, ProductID: o.ProductID, ProductName: o.ProductName,
		AmountSen: int64(o.Amount), Currency: order.Currency,
		OrderStatus: string(o.Status), PaymentStatus: string(o.PaymentStatus),
		PaymentID: o.PaymentID, DeclineReason: o.DeclineReason, CorrelationID: o.CorrelationID,
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
		IdempotencyKey: o.IdempotencyKey, RequestHash: o.RequestHash,
	}
}

func (f orderFields) order(id string) order.Order {
	return order.Order{
		ID: id, UserID: f.UserID, ProductID: f.ProductID, ProductName: f.ProductName,
		Amount: order.Sen(f.AmountSen), Status: order.Status(f.OrderStatus), PaymentStatus: order.PaymentStatus(f.PaymentStatus),
		PaymentID: f.PaymentID, DeclineReason: f.DeclineReason, CorrelationID: f.CorrelationID,
		CreatedAt: f.CreatedAt.UTC(), UpdatedAt: f.UpdatedAt.UTC(),
		IdempotencyKey: f.IdempotencyKey, RequestHash: f.RequestHash,
	}
}

func changeOf(o order.Order) changeDoc {
	return changeDoc{
		ID:          changeID(o.ID, o.Version),
		OrderStatus: string(o.Status), PaymentStatus: string(o.PaymentStatus),
		PaymentID: o.PaymentID, DeclineReason: o.DeclineReason, CorrelationID: o.CorrelationID,
		UpdatedAt: o.UpdatedAt,
	}
}

func (c changeDoc) apply(o order.Order) order.Order {
	o.Status, o.PaymentStatus = order.Status(c.OrderStatus), order.PaymentStatus(c.PaymentStatus)
	o.PaymentID, o.DeclineReason, o.CorrelationID = c.PaymentID, c.DeclineReason, c.CorrelationID
	o.UpdatedAt = c.UpdatedAt.UTC()
	o.Version++
	return o
}

// storeErr turns a docstore error into one of the repository's. Every
// exported method passes its error through it, so no docstore error leaves
// the package.
func storeErr(err error) error {
	switch {
	case err == nil, errors.Is(err, order.ErrUnavailable):
		return err
	case errors.Is(err, docstore.ErrUnavailable):
		return fmt.Errorf("%w: %w", order.ErrUnavailable, err)
	case errors.Is(err, docstore.ErrNotFound):
		return order.ErrNotFound
	case errors.Is(err, docstore.ErrDuplicate):
		return order.ErrDuplicate
	}
	return err
}

// Create implements order.Repository. The order's list entry and outbox
// entry are written before the order: a crash between leaves an entry of
// no order, which List skips and the outbox lets go, rather than an order
// its user cannot list or nobody announces again.
func (s *Store) Create(ctx context.Context, o order.Order, e order.OutboxEntry) error {
	oid, err := bson.ObjectIDFromHex(o.ID)
	if err != nil {
		return fmt.Errorf("order id %q: %w", o.ID, order.ErrInvalidID)
	}
	_, resumed := s.resumed.Peek(o.ID)
	var n position
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		n, err = s.enlist(gctx, o, oid, resumed)
		return err
	})
	g.Go(func() error { return s.schedule(gctx, e) })
	if err := g.Wait(); err != nil {
		return storeErr(err)
	}
	// The page the order fills, if it fills one, is written as the order is
	// stored. A page that fails to be written is written by the first list
	// that misses it: its failure fails nothing.
	var wg sync.WaitGroup
	if n > 0 && n%pageSize == 0 {
		wg.Go(func() { _ = s.writePage(ctx, o.UserID, n/pageSize-1, pageEntry{OrderID: oid, Fields: fieldsOf(o)}) })
	}
	err = s.changes.Insert(ctx, createdDoc{ID: changeID(o.ID, 0), Fields: fieldsOf(o)})
	wg.Wait()
	if err != nil {
		return storeErr(err)
	}
	s.resumed.Remove(o.ID)
	s.remember(o)
	return nil
}

// Get implements order.Repository.
func (s *Store) Get(ctx context.Context, id string) (order.Order, error) {
	o, err := s.get(ctx, id)
	return o, storeErr(err)
}

func (s *Store) get(ctx context.Context, id string) (order.Order, error) {
	o, ok := s.known.Get(id)
	if !ok {
		var err error
		if o, err = s.created(ctx, id); err != nil {
			return order.Order{}, err
		}
	}
	o, err := s.latest(ctx, o)
	if err != nil {
		return order.Order{}, err
	}
	s.remember(o)
	return o, nil
}

// created returns the order as created, or ErrNotFound.
func (s *Store) created(ctx context.Context, id string) (order.Order, error) {
	var d createdDoc
	err := s.changes.Find(ctx, changeID(id, 0), &d)
	if errors.Is(err, docstore.ErrNotFound) && s.legacyOrders != nil {
		oid, idErr := bson.ObjectIDFromHex(id)
		if idErr != nil {
			return order.Order{}, err
		}
		var l legacyOrderDoc
		if err := s.legacyOrders.Find(ctx, oid, &l); err != nil {
			return order.Order{}, err
		}
		return l.Fields.order(id), nil
	}
	if err != nil {
		return order.Order{}, err
	}
	return d.Fields.order(id), nil
}

// latest returns o after the changes stored after its version.
func (s *Store) latest(ctx context.Context, o order.Order) (order.Order, error) {
	for !o.Final() {
		var c changeDoc
		err := s.changes.Find(ctx, changeID(o.ID, o.Version+1), &c)
		if errors.Is(err, docstore.ErrNotFound) {
			break
		}
		if err != nil {
			return order.Order{}, err
		}
		o = c.apply(o)
	}
	return o, nil
}

// findLegacyKey finds the claim of k in a store an earlier version wrote,
// or returns ErrNotFound.
func (s *Store) findLegacyKey(ctx context.Context, k order.KeyClaim, d *keyDoc) error {
	if s.legacyKeys == nil {
		return docstore.ErrNotFound
	}
	return s.legacyKeys.Find(ctx, legacyKeyID(k.UserID, k.Key), d)
}

func (s *Store) remember(o order.Order) {
	if cur, ok := s.known.Peek(o.ID); !ok || cur.Version < o.Version {
		s.known.Add(o.ID, o)
	}
}

// changeTries is how many times Update reads an order again when another
// replica's change came first.
const changeTries = 5

// Update implements order.Repository. It starts from the version this
// process knows, if any, without asking the store: storing the next version
// succeeds only if that was the latest. An answer that changes nothing, or
// refuses, is given only from the latest version read from the store.
func (s *Store) Update(ctx context.Context, id string, change func(order.Order) (order.Order, *order.OutboxEntry, error)) (order.Order, error) {
	defer s.locks.Lock(id)()
	o, known := s.known.Peek(id)
	fresh := !known
	for try := 1; ; try++ {
		if fresh {
			var err error
			if o, err = s.get(ctx, id); err != nil {
				return order.Order{}, storeErr(err)
			}
		}
		next, entry, err := change(o)
		if err != nil || next.Version == o.Version {
			if !fresh {
				fresh = true
				continue
			}
			return o, err
		}
		if next.Version != o.Version+1 || next.ID != o.ID {
			return order.Order{}, fmt.Errorf("order %s: a change from version %d made version %d of %s", id, o.Version, next.Version, next.ID)
		}
		if entry != nil { // what the change makes it await is awaited before the change is stored
			if err := s.schedule(ctx, *entry); err != nil {
				return order.Order{}, storeErr(err)
			}
		}
		switch err := s.changes.Insert(ctx, changeOf(next)); {
		case errors.Is(err, docstore.ErrDuplicate) && try < changeTries:
			fresh = true
			continue
		case errors.Is(err, docstore.ErrDuplicate):
			s.known.Remove(id)
			return order.Order{}, order.ErrConflict
		case err != nil:
			return order.Order{}, storeErr(err)
		}
		s.remember(next)
		if awaited := o.Awaits(); awaited != "" && next.Awaits() != awaited {
			s.answered(id, awaited)
		}
		return next, nil
	}
}

// ClaimKey implements order.Repository.
func (s *Store) ClaimKey(ctx context.Context, k order.KeyClaim) (order.KeyClaim, error) {
	var d keyDoc
	switch err := s.findLegacyKey(ctx, k, &d); {
	case err == nil: // claimed before this version
	case !errors.Is(err, docstore.ErrNotFound):
		return order.KeyClaim{}, storeErr(err)
	default:
		err := s.lists.Insert(ctx, keyDoc{ID: keyID(k.UserID, k.Key), OrderID: k.OrderID, RequestHash: k.RequestHash, CreatedAt: k.CreatedAt})
		if !errors.Is(err, docstore.ErrDuplicate) {
			return k, storeErr(err)
		}
		if err := s.lists.Find(ctx, keyID(k.UserID, k.Key), &d); err != nil {
			return order.KeyClaim{}, storeErr(err)
		}
	}
	// The request that claimed it may have listed its order and died
	// before storing it: a retry that creates it looks for the entry.
	s.resumed.Add(d.OrderID, struct{}{})
	return order.KeyClaim{UserID: k.UserID, Key: k.Key, OrderID: d.OrderID, RequestHash: d.RequestHash, CreatedAt: d.CreatedAt.UTC()}, nil
}
