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

// MongoRepository is the Repository on a MongoDB collection.
type MongoRepository struct {
	coll *mongo.Collection
}

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
	// IdemScope is unique. It is the user's idempotency key when the request
	// had one, else the order's own id: MongoDB's partial indexes would say
	// this better, but FerretDB has none, and every order needs a value.
	IdemScope       string     `bson:"idemScope"`
	IdempotencyKey  string     `bson:"idempotencyKey,omitempty"`
	RequestHash     string     `bson:"requestHash"`
	NextPublishAt   *time.Time `bson:"nextPublishAt,omitempty"`
	PublishAttempts int        `bson:"publishAttempts"`
}

// NewMongoRepository returns a MongoRepository on the "orders" collection of
// db, creating its indexes.
func NewMongoRepository(ctx context.Context, db *mongo.Database) (*MongoRepository, error) {
	coll := db.Collection("orders")
	// One at a time: FerretDB 1.24 drops the connection when one
	// createIndexes command names several indexes that already exist.
	for _, m := range []mongo.IndexModel{
		{Keys: bson.D{{Key: "userId", Value: 1}, {Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}},
		{Keys: bson.D{{Key: "idemScope", Value: 1}}, Options: options.Index().SetUnique(true)},
		{Keys: bson.D{{Key: "nextPublishAt", Value: 1}}},
	} {
		if _, err := coll.Indexes().CreateOne(ctx, m); err != nil {
			return nil, fmt.Errorf("create order indexes: %w", err)
		}
	}
	return &MongoRepository{coll: coll}, nil
}

func idemScope(userID, key, id string) string {
	if key == "" {
		return "o:" + id
	}
	return "u:" + userID + "/" + key
}

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
		IdemScope: idemScope(o.UserID, o.IdempotencyKey, o.ID), IdempotencyKey: o.IdempotencyKey,
		RequestHash: o.RequestHash, NextPublishAt: timePtr(o.NextPublishAt), PublishAttempts: o.PublishAttempts,
	}
	return d, nil
}

func (d orderDoc) order() Order {
	o := Order{
		ID: d.ID.Hex(), UserID: d.UserID, ProductID: d.ProductID, ProductName: d.ProductName,
		Amount: Sen(d.AmountSen), Status: Status(d.OrderStatus), PaymentStatus: PaymentStatus(d.PaymentStatus),
		PaymentID: d.PaymentID, DeclineReason: d.DeclineReason, CorrelationID: d.CorrelationID,
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(),
		IdempotencyKey: d.IdempotencyKey, RequestHash: d.RequestHash, PublishAttempts: d.PublishAttempts,
	}
	if d.NextPublishAt != nil {
		o.NextPublishAt = d.NextPublishAt.UTC()
	}
	return o
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
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
	_, err = r.coll.InsertOne(ctx, d)
	return storeErr(err)
}

func (r *MongoRepository) findOne(ctx context.Context, filter bson.D) (Order, error) {
	var d orderDoc
	if err := r.coll.FindOne(ctx, filter).Decode(&d); err != nil {
		return Order{}, storeErr(err)
	}
	return d.order(), nil
}

// Get implements Repository.
func (r *MongoRepository) Get(ctx context.Context, id string) (Order, error) {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return Order{}, ErrNotFound
	}
	return r.findOne(ctx, bson.D{{Key: "_id", Value: oid}})
}

// GetByIdempotencyKey implements Repository.
func (r *MongoRepository) GetByIdempotencyKey(ctx context.Context, userID, key string) (Order, error) {
	return r.findOne(ctx, bson.D{{Key: "idemScope", Value: idemScope(userID, key, "")}})
}

// List implements Repository.
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
	return r.find(ctx, filter, opts)
}

func (r *MongoRepository) find(ctx context.Context, filter bson.D, opts *options.FindOptionsBuilder) ([]Order, error) {
	cur, err := r.coll.Find(ctx, filter, opts)
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

// Update implements Repository.
func (r *MongoRepository) Update(ctx context.Context, o Order, from State) error {
	d, err := toDoc(o)
	if err != nil {
		return err
	}
	set := bson.D{
		{Key: "orderStatus", Value: d.OrderStatus},
		{Key: "paymentStatus", Value: d.PaymentStatus},
		{Key: "paymentId", Value: d.PaymentID},
		{Key: "declineReason", Value: d.DeclineReason},
		{Key: "correlationId", Value: d.CorrelationID},
		{Key: "updatedAt", Value: d.UpdatedAt},
		{Key: "publishAttempts", Value: d.PublishAttempts},
	}
	update := bson.D{{Key: "$set", Value: set}}
	if d.NextPublishAt != nil {
		set = append(set, bson.E{Key: "nextPublishAt", Value: *d.NextPublishAt})
		update = bson.D{{Key: "$set", Value: set}}
	} else {
		update = append(update, bson.E{Key: "$unset", Value: bson.D{{Key: "nextPublishAt", Value: ""}}})
	}
	res, err := r.coll.UpdateOne(ctx, bson.D{
		{Key: "_id", Value: d.ID},
		{Key: "orderStatus", Value: string(from.Status)},
		{Key: "paymentStatus", Value: string(from.PaymentStatus)},
	}, update)
	if err != nil {
		return storeErr(err)
	}
	if res.MatchedCount == 0 {
		if _, err := r.Get(ctx, o.ID); err != nil {
			return err
		}
		return ErrConflict
	}
	return nil
}

// Due implements Repository.
func (r *MongoRepository) Due(ctx context.Context, now time.Time, limit int) ([]Order, error) {
	opts := options.Find().SetSort(bson.D{{Key: "nextPublishAt", Value: 1}}).SetLimit(int64(limit))
	return r.find(ctx, bson.D{{Key: "nextPublishAt", Value: bson.D{{Key: "$lte", Value: now}}}}, opts)
}

// Reschedule implements Repository.
func (r *MongoRepository) Reschedule(ctx context.Context, id string, from, next time.Time, attempts int) (bool, error) {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil || from.IsZero() {
		return false, nil
	}
	res, err := r.coll.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: oid}, {Key: "nextPublishAt", Value: from}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "nextPublishAt", Value: next}, {Key: "publishAttempts", Value: attempts}}}})
	if err != nil {
		return false, storeErr(err)
	}
	return res.ModifiedCount == 1, nil
}
