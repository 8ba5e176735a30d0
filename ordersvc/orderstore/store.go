package orderstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/orderflow/orderflow/ordersvc/order"

	lru "github.com/hashicorp/golang-lru/v2"
	"go.mongodb.org/mongo-driver/v2/bson"
	"golang.org/x/sync/errgroup"

	"github.com/orderflow/orderflow/internal/docstore"
	"github.com/orderflow/orderflow/internal/keyedlock"
)

// Store is the Repository on a docstore.Database: MongoDB's in production,
// one in memory in fast tests, with the same code and so the same
// behaviour. Its collections, each addressed by _id only:
//
//	orders            _id the order id (an ObjectID)   the order as created
//	order_changes     _id "<orderId>/<version>"         the order after each change
//	user_orders       _id "<userId>/<n>"                the user's n-th order, a copy as created
//	                  _id "<userId>/p<k>"               a page: orders kP+1 to kP+P, as they were then
//	idempotency_keys  _id "<userId>/<key>"              the order a key created
//
// The latest version of an order is the highest of its changes: numbers
// are taken one after another, so a reader asks for the next one until it
// is missing (an order in a final status has none). A user's list works the
// same way, and each full page of it is also kept as one document, so that
// listing reads a page where it would read ten entries, and starts each
// order from the version it had when its page was written. Each process
// remembers the latest versions of recent orders and the lengths of recent
// users' lists, so that it usually asks the store only whether there is a
// next one.
type Store struct {
	orders, changes, lists, keys docstore.Collection

	known  *lru.Cache[string, order.Order]    // latest versions seen, by order id
	heads  *lru.Cache[string, order.Position] // list lengths seen, by user id
	recent *lru.Cache[string, recentPage]     // the orders of each user's last page this process listed
	locks  keyedlock.Locks                    // one list append per user at a time
}

// Sizes of what a Store remembers: some megabytes.
const (
	knownOrders = 20_000
	knownUsers  = 10_000
)

// NewStore returns the Store of db, creating its collections.
func NewStore(ctx context.Context, db docstore.Database) (*Store, error) {
	// Created now: FerretDB fails some of the concurrent first inserts that
	// would create a collection.
	for _, name := range []string{"orders", "order_changes", "user_orders", "idempotency_keys"} {
		if err := db.CreateCollection(ctx, name); err != nil {
			return nil, fmt.Errorf("create collection %s: %w", name, err)
		}
	}
	known, _ := lru.New[string, order.Order](knownOrders)
	heads, _ := lru.New[string, order.Position](knownUsers)
	recent, _ := lru.New[string, recentPage](knownUsers)
	return &Store{
		orders:  db.Collection("orders"),
		changes: db.Collection("order_changes"),
		lists:   db.Collection("user_orders"),
		keys:    db.Collection("idempotency_keys"),
		known:   known,
		heads:   heads,
		recent:  recent,
	}, nil
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

// orderDoc is an order as created.
type orderDoc struct {
	ID     bson.ObjectID `bson:"_id"`
	Fields orderFields   `bson:",inline"`
}

// listDoc is a user's n-th order, a copy of it as created.
type listDoc struct {
	ID      string        `bson:"_id"` // "<userId>/<n>"
	OrderID bson.ObjectID `bson:"orderId"`
	Fields  orderFields   `bson:",inline"`
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

// pageSize is how many orders of a user's list a page holds.
const pageSize = 10

// pageDoc is a full page of a user's list: its orders as this process knew
// them when the page was written, each a version to start reading from.
type pageDoc struct {
	ID      string      `bson:"_id"` // "<userId>/p<k>"
	Entries []pageEntry `bson:"entries"`
}

type pageEntry struct {
	OrderID bson.ObjectID `bson:"orderId"`
	Fields  orderFields   `bson:",inline"`
	Version int           `bson:"version"`
	// Stored is false for an order not known to be stored when its page
	// was written (its creation may have failed after listing it).
	Stored bool `bson:"stored"`
}

// recentPage is what a process listed of a page: the order id at each
// position of the page, where the position matches.
type recentPage [pageSize]struct {
	N  order.Position
	ID string
}

// id returns the order listed at position n, if this process listed it.
func (r *recentPage) id(n order.Position) string {
	if e := r[(n-1)%pageSize]; e.N == n {
		return e.ID
	}
	return ""
}

// keyDoc is the claim of a user's Idempotency-Key.
type keyDoc struct {
	ID          string    `bson:"_id"` // "<userId>/<key>"
	OrderID     string    `bson:"orderId"`
	RequestHash string    `bson:"requestHash"`
	CreatedAt   time.Time `bson:"createdAt"`
}

// A userId has no "/", so these ids never mix two users' documents.
func changeID(orderID string, version int) string { return orderID + "/" + strconv.Itoa(version) }
func listID(userID string, n order.Position) string {
	return userID + "/" + strconv.FormatInt(int64(n), 10)
}
func keyID(userID, key string) string { return userID + "/" + key }
func pageID(userID string, k order.Position) string {
	return userID + "/p" + strconv.FormatInt(int64(k), 10)
}

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

// Create implements Repository. The order is listed, and first done, before
// it is stored: a crash between leaves a list entry of no order, which List
// skips, rather than an order its user cannot list.
func (s *Store) Create(ctx context.Context, o order.Order, first func(context.Context) error) (err error) {
	defer func() { err = storeErr(err) }()
	return s.create(ctx, o, false, first)
}

// Resume stores an order whose creation an earlier request began and did
// not finish (its Idempotency-Key names it): as Create does, but it lists
// the order only if that request had not.
func (s *Store) Resume(ctx context.Context, o order.Order, first func(context.Context) error) (err error) {
	defer func() { err = storeErr(err) }()
	return s.create(ctx, o, true, first)
}

// resumeWindow is how far from the end of a user's list Resume looks for
// the entry of an order whose creation was interrupted: that request listed
// it moments before, when it listed it at all.
const resumeWindow = 32

func (s *Store) create(ctx context.Context, o order.Order, resume bool, first func(context.Context) error) error {
	oid, err := bson.ObjectIDFromHex(o.ID)
	if err != nil {
		return order.ErrInvalidID
	}
	var (
		n      order.Position
		listed recentPage
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		n, listed, err = s.enlist(gctx, o, oid, resume)
		return err
	})
	if first != nil {
		g.Go(func() error { return first(gctx) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := s.orders.Insert(ctx, orderDoc{ID: oid, Fields: fieldsOf(o)}); err != nil {
		return storeErr(err)
	}
	s.remember(o)
	if n > 0 && n%pageSize == 0 {
		// Off the request's path; a page that fails to be written is
		// read as its entries, and written by the next list that does.
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, _ = s.writePage(ctx, o.UserID, n/pageSize-1, &listed)
		}()
	}
	return nil
}

// enlist appends the order to its user's list, unless resume finds it
// there already, and returns its position (0 when it was there) and the
// orders of its page this process listed.
func (s *Store) enlist(ctx context.Context, o order.Order, oid bson.ObjectID, resume bool) (order.Position, recentPage, error) {
	var none recentPage
	defer s.locks.Lock(o.UserID)()
	// The length this process saw last is usually still the length: try
	// the next number at once, and look for the length only if it is taken.
	head, known := s.heads.Get(o.UserID)
	if !known || resume {
		var err error
		if head, err = s.head(ctx, o.UserID); err != nil {
			return 0, none, err
		}
	}
	if resume {
		for n := head; n > max(0, head-resumeWindow); n-- {
			var d listDoc
			if err := s.lists.Find(ctx, listID(o.UserID, n), &d); err != nil {
				return 0, none, storeErr(err)
			}
			if d.OrderID == oid {
				return 0, none, nil
			}
		}
	}
	entry := listDoc{OrderID: oid, Fields: fieldsOf(o)}
	for n := head + 1; ; n++ {
		entry.ID = listID(o.UserID, n)
		err := s.lists.Insert(ctx, entry)
		switch {
		case err == nil:
			s.sawHead(o.UserID, n)
			listed, _ := s.recent.Get(o.UserID)
			listed[(n-1)%pageSize].N, listed[(n-1)%pageSize].ID = n, o.ID
			s.recent.Add(o.UserID, listed)
			return n, listed, nil
		case !errors.Is(err, docstore.ErrDuplicate):
			return 0, none, err
		case known: // another replica listed orders since: find the end
			known = false
			if head, err = s.head(ctx, o.UserID); err != nil {
				return 0, none, err
			}
			n = head
		}
	}
}

// head returns the length of the user's list: the highest n whose entry
// exists. It starts from the length this process saw last, which the list
// can only have passed, and doubles its steps until an entry is missing,
// then halves the gap.
func (s *Store) head(ctx context.Context, userID string) (order.Position, error) {
	lo, _ := s.heads.Get(userID) // exists, or 0
	hi := order.Position(0)      // missing, once known
	for step := order.Position(1); hi == 0; step *= 2 {
		ok, err := s.listed(ctx, userID, lo+step)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = lo + step
		} else {
			hi = lo + step
		}
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		ok, err := s.listed(ctx, userID, mid)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	s.sawHead(userID, lo)
	return lo, nil
}

func (s *Store) listed(ctx context.Context, userID string, n order.Position) (bool, error) {
	return docstore.Exists(ctx, s.lists, listID(userID, n))
}

func (s *Store) sawHead(userID string, n order.Position) {
	if cur, ok := s.heads.Peek(userID); !ok || cur < n {
		s.heads.Add(userID, n)
	}
}

// Get implements Repository.
func (s *Store) Get(ctx context.Context, id string) (_ order.Order, err error) {
	defer func() { err = storeErr(err) }()
	o, ok := s.known.Get(id)
	if !ok {
		oid, err := bson.ObjectIDFromHex(id)
		if err != nil {
			return order.Order{}, order.ErrNotFound
		}
		var d orderDoc
		if err := s.orders.Find(ctx, oid, &d); err != nil {
			return order.Order{}, storeErr(err)
		}
		o = d.Fields.order(id)
	}
	o, err = s.latest(ctx, o)
	if err != nil {
		return order.Order{}, err
	}
	s.remember(o)
	return o, nil
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

func (s *Store) remember(o order.Order) {
	if cur, ok := s.known.Peek(o.ID); !ok || cur.Version < o.Version {
		s.known.Add(o.ID, o)
	}
}

// Peek implements Repository.
func (s *Store) Peek(id string) (order.Order, bool) { return s.known.Peek(id) }

// Change implements Repository.
func (s *Store) Change(ctx context.Context, o order.Order) (err error) {
	defer func() { err = storeErr(err) }()
	if o.Version < 1 {
		return fmt.Errorf("order %s: a change has a version from 1, not %d", o.ID, o.Version)
	}
	err = s.changes.Insert(ctx, changeDoc{
		ID:          changeID(o.ID, o.Version),
		OrderStatus: string(o.Status), PaymentStatus: string(o.PaymentStatus),
		PaymentID: o.PaymentID, DeclineReason: o.DeclineReason, CorrelationID: o.CorrelationID,
		UpdatedAt: o.UpdatedAt,
	})
	switch {
	case errors.Is(err, docstore.ErrDuplicate):
		s.known.Remove(o.ID)
		return order.ErrConflict
	case err != nil:
		return err
	}
	s.remember(o)
	return nil
}

// listReads is how many documents List reads at once.
const listReads = 16

// List implements Repository. An entry whose order was never stored (its
// creation failed after listing it) is left out.
func (s *Store) List(ctx context.Context, userID string, from order.Position, limit int) (_ []order.Order, _ order.Position, err error) {
	defer func() { err = storeErr(err) }()
	top := from
	if from == 0 {
		var err error
		if top, err = s.head(ctx, userID); err != nil {
			return nil, 0, err
		}
	}
	if top < 1 || limit < 1 {
		return nil, 0, nil
	}
	low := max(1, top-order.Position(limit)+1)

	// The entries, from the pages that are full (all of a page's entries
	// are at or below top), else one by one.
	entries := make([]pageEntry, top-low+1)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(listReads)
	for k := (low - 1) / pageSize; k <= (top-1)/pageSize; k++ {
		first, last := k*pageSize+1, (k+1)*pageSize
		if last <= top {
			g.Go(func() error {
				page, err := s.page(gctx, userID, k)
				if err != nil {
					return err
				}
				for n := max(first, low); n <= last; n++ {
					entries[top-n] = page[n-first]
				}
				return nil
			})
			continue
		}
		for n := max(first, low); n <= top; n++ {
			g.Go(func() error {
				var d listDoc
				if err := s.lists.Find(gctx, listID(userID, n), &d); err != nil {
					return err
				}
				entries[top-n] = pageEntry{OrderID: d.OrderID, Fields: d.Fields}
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, 0, storeErr(err)
	}

	orders := make([]order.Order, len(entries))
	found := make([]bool, len(entries))
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(listReads)
	for i, e := range entries {
		g.Go(func() error {
			o, ok, err := s.resolve(gctx, e)
			orders[i], found[i] = o, ok
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, 0, storeErr(err)
	}
	page := orders[:0]
	seen := map[string]bool{}
	for i, o := range orders {
		if found[i] && !seen[o.ID] { // Resume lists an order once; this makes sure
			seen[o.ID] = true
			page = append(page, o)
		}
	}
	return page, low - 1, nil
}

// page returns the entries of page k of the user's list: its document, or,
// when that is missing, the entries read one by one, and then written as
// the page for the next reader.
func (s *Store) page(ctx context.Context, userID string, k order.Position) ([]pageEntry, error) {
	var d pageDoc
	switch err := s.lists.Find(ctx, pageID(userID, k), &d); {
	case err == nil && len(d.Entries) == pageSize:
		return d.Entries, nil
	case err != nil && !errors.Is(err, docstore.ErrNotFound):
		return nil, err
	}
	return s.writePage(ctx, userID, k, nil)
}

// writePage writes page k of the user's list, from what this process knows
// of its orders (those it listed, in listed) and, for the others, their
// entries.
func (s *Store) writePage(ctx context.Context, userID string, k order.Position, listed *recentPage) ([]pageEntry, error) {
	if listed == nil {
		listed = new(recentPage)
	}
	entries := make([]pageEntry, pageSize)
	for i := range entries {
		n := k*pageSize + order.Position(i) + 1
		id := listed.id(n)
		o, known := s.known.Peek(id)
		if !known || id == "" {
			var d listDoc
			if err := s.lists.Find(ctx, listID(userID, n), &d); err != nil {
				return nil, err
			}
			if o, known = s.known.Peek(d.OrderID.Hex()); !known {
				entries[i] = pageEntry{OrderID: d.OrderID, Fields: d.Fields}
				continue
			}
		}
		oid, _ := bson.ObjectIDFromHex(o.ID)
		entries[i] = pageEntry{OrderID: oid, Fields: fieldsOf(o), Version: o.Version, Stored: true}
	}
	err := s.lists.Insert(ctx, pageDoc{ID: pageID(userID, k), Entries: entries})
	if err != nil && !errors.Is(err, docstore.ErrDuplicate) {
		return nil, err
	}
	return entries, nil
}

// resolve returns the latest version of a listed order, and false when
// that order was never stored.
func (s *Store) resolve(ctx context.Context, e pageEntry) (order.Order, bool, error) {
	id := e.OrderID.Hex()
	o := e.Fields.order(id)
	o.Version = e.Version
	stored := e.Stored
	if k, ok := s.known.Peek(id); ok && k.Version >= o.Version {
		o, stored = k, true
	}
	o, err := s.latest(ctx, o)
	if err != nil {
		return order.Order{}, false, err
	}
	// An order this process knows, or that has changed, exists; else only
	// the order itself says whether its creation got that far.
	if !stored && o.Version == 0 {
		var d orderDoc
		switch err := s.orders.Find(ctx, e.OrderID, &d); {
		case errors.Is(err, docstore.ErrNotFound):
			return order.Order{}, false, nil
		case err != nil:
			return order.Order{}, false, err
		}
		o = d.Fields.order(id)
	}
	s.remember(o)
	return o, true, nil
}

// ClaimKey implements Repository.
func (s *Store) ClaimKey(ctx context.Context, k order.KeyClaim) (err error) {
	defer func() { err = storeErr(err) }()
	return storeErr(s.keys.Insert(ctx, keyDoc{
		ID: keyID(k.UserID, k.Key), OrderID: k.OrderID, RequestHash: k.RequestHash, CreatedAt: k.CreatedAt,
	}))
}

// Key implements Repository.
func (s *Store) Key(ctx context.Context, userID, key string) (_ order.KeyClaim, err error) {
	defer func() { err = storeErr(err) }()
	var d keyDoc
	if err := s.keys.Find(ctx, keyID(userID, key), &d); err != nil {
		return order.KeyClaim{}, storeErr(err)
	}
	return order.KeyClaim{UserID: userID, Key: key, OrderID: d.OrderID, RequestHash: d.RequestHash, CreatedAt: d.CreatedAt.UTC()}, nil
}
