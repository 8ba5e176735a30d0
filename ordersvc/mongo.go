package ordersvc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// MongoRepository is the Repository on MongoDB. Orders live in the
// "orders" collection; when each awaited event is published again lives in a
// small "outbox" collection, one entry per order that awaits paymentsvc,
// keyed by order id; and each Idempotency-Key in "idempotency_keys", keyed by
// user and key, naming its order.
//
// The outbox keeps the redeliverer's query off the orders: it reads only the
// few orders in flight, however many are stored (FerretDB scans a whole
// collection for any query that is not by _id). An order and its entry are
// two documents, written in the order that loses nothing: an entry is
// written before its order starts to await, and deleted, on the condition
// that it still awaits what the order awaited, after the order stops. Due
// deletes entries that a crash left behind, once they are older than
// outboxGrace. A key is likewise written before its order; a retry that
// finds a key without its order stores the order under the key's order id,
// so that one key never makes two orders.
type MongoRepository struct {
	orders *mongo.Collection
	outbox *mongo.Collection
	keys   *mongo.Collection
}

// outboxGrace is how long an outbox entry whose order does not await (yet)
// is kept before Due deletes it: far longer than the three MongoDB operations
// of 3 seconds each (platform.ConnectMongo) that separate an entry from its
// order's write.
const outboxGrace = 5 * time.Minute

// recheckAfter is when Due looks again at an entry it could not settle.
const recheckAfter = 5 * time.Second

// orderDoc is an order as stored.
type orderDoc struct {
	ID            bson.ObjectID `bson:"_id"`
	UserID        string        `bson:"userId"`
	ProductID     string        `bson:"productId"`
	ProductName   string        `bson:"productName"`
	AmountSen     int64         `bson:"amountSen"`
	Currency      string        `bson:"currency"`
	OrderStatus   string        `bson:"orderStatus"`
	PaymentStatus string        `bson:"paymentStatus"`
	PaymentID     string        `bson:"paymentId,omitempty"`
	DeclineReason string        `bson:"declineReason,omitempty"`
	CorrelationID string        `bson:"correlationId,omitempty"`
	CreatedAt     time.Time     `bson:"createdAt"`
	UpdatedAt     time.Time     `bson:"updatedAt"`
	// IdempotencyKey and RequestHash are the request that created the order.
	IdempotencyKey string `bson:"idempotencyKey,omitempty"`
	RequestHash    string `bson:"requestHash"`
}

// keyDoc names the order a user's Idempotency-Key created.
type keyDoc struct {
	Scope       string    `bson:"_id"` // user and key
	OrderID     string    `bson:"orderId"`
	RequestHash string    `bson:"requestHash"`
	CreatedAt   time.Time `bson:"createdAt"`
}

// outboxDoc says when an order's awaited event is published again.
type outboxDoc struct {
	OrderID       string    `bson:"_id"`
	Awaits        string    `bson:"awaits"` // the payment status: Pending or Refunding
	NextPublishAt time.Time `bson:"nextPublishAt"`
	Attempts      int       `bson:"attempts"`
	WrittenAt     time.Time `bson:"writtenAt"`
}

// NewMongoRepository returns a MongoRepository on db, creating its indexes.
func NewMongoRepository(ctx context.Context, db *mongo.Database) (*MongoRepository, error) {
	r := &MongoRepository{
		orders: db.Collection("orders"),
		outbox: db.Collection("outbox"),
		keys:   db.Collection("idempotency_keys"),
	}
	// Create the collections now: FerretDB fails some of the concurrent
	// first inserts that would create a collection.
	for _, name := range []string{"orders", "outbox", "idempotency_keys"} {
		var cmdErr mongo.CommandError
		if err := db.CreateCollection(ctx, name); err != nil && !(errors.As(err, &cmdErr) && cmdErr.Code == 48) { // NamespaceExists
			return nil, fmt.Errorf("create collection %s: %w", name, err)
		}
	}
	// One at a time: FerretDB 1.24 drops the connection when one
	// createIndexes command names several indexes that already exist.
	for _, ix := range []struct {
		coll  *mongo.Collection
		model mongo.IndexModel
	}{
		{r.orders, mongo.IndexModel{Keys: bson.D{{Key: "userId", Value: 1}, {Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}}},
		{r.outbox, mongo.IndexModel{Keys: bson.D{{Key: "nextPublishAt", Value: 1}}}},
	} {
		if _, err := ix.coll.Indexes().CreateOne(ctx, ix.model); err != nil {
			return nil, fmt.Errorf("create order indexes: %w", err)
		}
	}
	return r, nil
}

// scope is the _id of a user's key; a userId has no "/".
func scope(userID, key string) string { return userID + "/" + key }

func toDoc(o Order) (orderDoc, error) {
	id, err := bson.ObjectIDFromHex(o.ID)
	if err != nil {
		return orderDoc{}, ErrInvalidID
	}
	d := orderDoc{
		ID: id, UserID: o.UserID, ProductID: o.ProductID, ProductName: o.ProductName,
		AmountSen: int64(o.Amount), Currency: Currency,
		OrderStatus: string(o.Status), PaymentStatus: string(o.PaymentStatus),
		PaymentID: o.PaymentID, DeclineReason: o.DeclineReason, CorrelationID: o.CorrelationID,
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
		IdempotencyKey: o.IdempotencyKey,
		RequestHash:    o.RequestHash,
	}
	return d, nil
}

func (d orderDoc) order() Order {
	return Order{
		ID: d.ID.Hex(), UserID: d.UserID, ProductID: d.ProductID, ProductName: d.ProductName,
		Amount: Sen(d.AmountSen), Status: Status(d.OrderStatus), PaymentStatus: PaymentStatus(d.PaymentStatus),
		PaymentID: d.PaymentID, DeclineReason: d.DeclineReason, CorrelationID: d.CorrelationID,
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(),
		IdempotencyKey: d.IdempotencyKey, RequestHash: d.RequestHash,
	}
}

// storeErr turns a driver error into one of the repository's.
func storeErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return ErrNotFound
	case mongo.IsDuplicateKeyError(err):
		return ErrDuplicate
	case errors.Is(err, context.Canceled):
		return err
	}
	return fmt.Errorf("%w: %v", ErrUnavailable, err)
}

// Create implements Repository.
func (r *MongoRepository) Create(ctx context.Context, o Order) error {
	d, err := toDoc(o)
	if err != nil {
		return err
	}
	if o.IdempotencyKey != "" {
		if err := r.claimKey(ctx, o); err != nil {
			return err
		}
	}
	if err := r.schedule(ctx, o); err != nil {
		return err
	}
	// On failure the entry stays: the insert may have happened all the same,
	// and Due deletes the entry of an order that never was.
	_, err = r.orders.InsertOne(ctx, d)
	return storeErr(err)
}

// claimKey records that o's key names o. A key that names o already is a
// claim of an earlier request for the same order, which this one completes;
// a key that names another order is ErrDuplicate.
func (r *MongoRepository) claimKey(ctx context.Context, o Order) error {
	k := keyDoc{Scope: scope(o.UserID, o.IdempotencyKey), OrderID: o.ID, RequestHash: o.RequestHash, CreatedAt: o.CreatedAt}
	_, err := r.keys.InsertOne(ctx, k)
	if !mongo.IsDuplicateKeyError(err) {
		return storeErr(err)
	}
	var old keyDoc
	if err := r.keys.FindOne(ctx, bson.D{{Key: "_id", Value: k.Scope}}).Decode(&old); err != nil {
		return storeErr(err)
	}
	if old.OrderID != o.ID {
		return ErrDuplicate
	}
	return nil
}

// schedule writes the outbox entry of an order that awaits paymentsvc.
func (r *MongoRepository) schedule(ctx context.Context, o Order) error {
	if o.NextPublishAt.IsZero() {
		return nil
	}
	_, err := r.outbox.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: o.ID}},
		bson.D{{Key: "$set", Value: bson.D{
			{Key: "awaits", Value: string(o.PaymentStatus)},
			{Key: "nextPublishAt", Value: o.NextPublishAt},
			{Key: "attempts", Value: o.PublishAttempts},
			{Key: "writtenAt", Value: time.Now().UTC()},
		}}},
		options.UpdateOne().SetUpsert(true))
	return storeErr(err)
}

// unschedule deletes the outbox entry of an order that stopped awaiting
// status, unless another writer has made it await something else since.
func (r *MongoRepository) unschedule(ctx context.Context, id string, status PaymentStatus) error {
	_, err := r.outbox.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "awaits", Value: string(status)}})
	return storeErr(err)
}

// Get implements Repository.
func (r *MongoRepository) Get(ctx context.Context, id string) (Order, error) {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return Order{}, ErrNotFound
	}
	var d orderDoc
	if err := r.orders.FindOne(ctx, bson.D{{Key: "_id", Value: oid}}).Decode(&d); err != nil {
		return Order{}, storeErr(err)
	}
	return r.withSchedule(ctx, d.order())
}

// withSchedule adds an awaiting order's redelivery time from the outbox.
func (r *MongoRepository) withSchedule(ctx context.Context, o Order) (Order, error) {
	if !o.Awaiting() {
		return o, nil
	}
	var e outboxDoc
	switch err := r.outbox.FindOne(ctx, bson.D{{Key: "_id", Value: o.ID}}).Decode(&e); {
	case errors.Is(err, mongo.ErrNoDocuments):
		return o, nil
	case err != nil:
		return Order{}, storeErr(err)
	}
	o.NextPublishAt, o.PublishAttempts = e.NextPublishAt.UTC(), e.Attempts
	return o, nil
}

// GetByIdempotencyKey implements Repository.
func (r *MongoRepository) GetByIdempotencyKey(ctx context.Context, userID, key string) (Order, error) {
	var k keyDoc
	if err := r.keys.FindOne(ctx, bson.D{{Key: "_id", Value: scope(userID, key)}}).Decode(&k); err != nil {
		return Order{}, storeErr(err)
	}
	o, err := r.Get(ctx, k.OrderID)
	if errors.Is(err, ErrNotFound) {
		return Order{ID: k.OrderID, UserID: userID, IdempotencyKey: key, RequestHash: k.RequestHash}, ErrInProgress
	}
	return o, err
}

// List implements Repository. Listed orders carry no redelivery time.
func (r *MongoRepository) List(ctx context.Context, userID string, after Position, limit int) ([]Order, error) {
	filter := bson.D{{Key: "userId", Value: userID}}
	if !after.IsZero() {
		oid, err := bson.ObjectIDFromHex(after.ID)
		if err != nil {
			return nil, ErrInvalidCursor
		}
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "createdAt", Value: bson.D{{Key: "$lt", Value: after.CreatedAt}}}},
			bson.D{{Key: "createdAt", Value: after.CreatedAt}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: oid}}}},
		}})
	}
	opts := options.Find().
		SetSort(bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}).
		SetLimit(int64(limit))
	cur, err := r.orders.Find(ctx, filter, opts)
	if err != nil {
		return nil, storeErr(err)
	}
	var docs []orderDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, storeErr(err)
	}
	orders := make([]Order, len(docs))
	for i, d := range docs {
		orders[i] = d.order()
	}
	return orders, nil
}

// Update implements Repository. An order that starts or keeps awaiting gets
// its outbox entry first; one that stops loses it after.
func (r *MongoRepository) Update(ctx context.Context, o Order, from State) error {
	d, err := toDoc(o)
	if err != nil {
		return err
	}
	if err := r.schedule(ctx, o); err != nil {
		return err
	}
	res, err := r.orders.UpdateOne(ctx, bson.D{
		{Key: "_id", Value: d.ID},
		{Key: "orderStatus", Value: string(from.Status)},
		{Key: "paymentStatus", Value: string(from.PaymentStatus)},
	}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "orderStatus", Value: d.OrderStatus},
		{Key: "paymentStatus", Value: d.PaymentStatus},
		{Key: "paymentId", Value: d.PaymentID},
		{Key: "declineReason", Value: d.DeclineReason},
		{Key: "correlationId", Value: d.CorrelationID},
		{Key: "updatedAt", Value: d.UpdatedAt},
	}}})
	if err != nil {
		return storeErr(err)
	}
	if res.MatchedCount == 0 {
		if _, err := r.Get(ctx, o.ID); err != nil {
			return err
		}
		return ErrConflict
	}
	if o.NextPublishAt.IsZero() && (from.PaymentStatus == Pending || from.PaymentStatus == Refunding) {
		return r.unschedule(ctx, o.ID, from.PaymentStatus)
	}
	return nil
}

// Due implements Repository. It settles the entries that do not belong to an
// awaiting order: deleted when their order has moved past what they await,
// or when they are older than outboxGrace; looked at again later when their
// order's write may still be on its way.
func (r *MongoRepository) Due(ctx context.Context, now time.Time, limit int) ([]Order, error) {
	cur, err := r.outbox.Find(ctx,
		bson.D{{Key: "nextPublishAt", Value: bson.D{{Key: "$lte", Value: now}}}},
		options.Find().SetSort(bson.D{{Key: "nextPublishAt", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, storeErr(err)
	}
	var entries []outboxDoc
	if err := cur.All(ctx, &entries); err != nil {
		return nil, storeErr(err)
	}
	var due []Order
	for _, e := range entries {
		o, err := r.Get(ctx, e.OrderID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		if err == nil && o.Awaiting() {
			o.NextPublishAt, o.PublishAttempts = e.NextPublishAt.UTC(), e.Attempts
			due = append(due, o)
			continue
		}
		// The order is missing, or awaits nothing; a refund may be about to
		// start on a paid order.
		pending := errors.Is(err, ErrNotFound) || (e.Awaits == string(Refunding) && o.PaymentStatus == Paid)
		filter := bson.D{{Key: "_id", Value: e.OrderID}, {Key: "nextPublishAt", Value: e.NextPublishAt}}
		if pending && now.Sub(e.WrittenAt) < outboxGrace {
			_, err = r.outbox.UpdateOne(ctx, filter, bson.D{{Key: "$set", Value: bson.D{{Key: "nextPublishAt", Value: now.Add(recheckAfter)}}}})
		} else {
			_, err = r.outbox.DeleteOne(ctx, filter)
		}
		if err != nil {
			return nil, storeErr(err)
		}
	}
	return due, nil
}

// Reschedule implements Repository.
func (r *MongoRepository) Reschedule(ctx context.Context, id string, from, next time.Time, attempts int) (bool, error) {
	if from.IsZero() {
		return false, nil
	}
	res, err := r.outbox.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "nextPublishAt", Value: from}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "nextPublishAt", Value: next}, {Key: "attempts", Value: attempts}}}})
	if err != nil {
		return false, storeErr(err)
	}
	return res.ModifiedCount == 1, nil
}
