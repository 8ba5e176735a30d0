package paymentsvc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// MongoRepository is the Repository on a MongoDB collection. A payment's
// _id is its order's id, so "at most one payment per order" is the primary
// key's uniqueness, and a lookup is by _id (the one query FerretDB answers
// without reading every document; its conditional updates still read them).
type MongoRepository struct {
	coll *mongo.Collection
}

type paymentDoc struct {
	OrderID       string        `bson:"_id"`
	ID            bson.ObjectID `bson:"paymentId"`
	UserID        string        `bson:"userId"`
	ProductID     string        `bson:"productId"`
	Amount        int64         `bson:"amount"`
	Currency      string        `bson:"currency"`
	Status        string        `bson:"status"`
	Reason        string        `bson:"reason,omitempty"`
	CorrelationID string        `bson:"correlationId,omitempty"`
	LeaseUntil    time.Time     `bson:"leaseUntil"`
	CreatedAt     time.Time     `bson:"createdAt"`
	UpdatedAt     time.Time     `bson:"updatedAt"`
}

// NewMongoRepository returns a MongoRepository on the "payments" collection
// of db.
func NewMongoRepository(db *mongo.Database) *MongoRepository {
	return &MongoRepository{coll: db.Collection("payments")}
}

// Create implements Repository.
func (r *MongoRepository) Create(ctx context.Context, p Payment) error {
	id, err := bson.ObjectIDFromHex(p.ID)
	if err != nil {
		return fmt.Errorf("payment id %q: %w", p.ID, err)
	}
	_, err = r.coll.InsertOne(ctx, paymentDoc{
		ID: id, OrderID: p.OrderID, UserID: p.UserID, ProductID: p.ProductID,
		Amount: p.Amount, Currency: p.Currency, Status: string(p.Status), Reason: p.Reason,
		CorrelationID: p.CorrelationID, LeaseUntil: p.LeaseUntil, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	})
	if mongo.IsDuplicateKeyError(err) {
		return ErrDuplicate
	}
	return err
}

// GetByOrder implements Repository.
func (r *MongoRepository) GetByOrder(ctx context.Context, orderID string) (Payment, error) {
	var d paymentDoc
	err := r.coll.FindOne(ctx, bson.D{{Key: "_id", Value: orderID}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Payment{}, ErrNotFound
	}
	if err != nil {
		return Payment{}, err
	}
	return Payment{
		ID: d.ID.Hex(), OrderID: d.OrderID, UserID: d.UserID, ProductID: d.ProductID,
		Amount: d.Amount, Currency: d.Currency, Status: Status(d.Status), Reason: d.Reason,
		CorrelationID: d.CorrelationID, LeaseUntil: d.LeaseUntil.UTC(), CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(),
	}, nil
}

// Update implements Repository.
func (r *MongoRepository) Update(ctx context.Context, p Payment, from Payment) error {
	res, err := r.coll.UpdateOne(ctx,
		bson.D{
			{Key: "_id", Value: from.OrderID},
			{Key: "status", Value: string(from.Status)},
			{Key: "leaseUntil", Value: from.LeaseUntil},
		},
		bson.D{{Key: "$set", Value: bson.D{
			{Key: "status", Value: string(p.Status)},
			{Key: "reason", Value: p.Reason},
			{Key: "leaseUntil", Value: p.LeaseUntil},
			{Key: "updatedAt", Value: p.UpdatedAt},
		}}})
	if err != nil {
		return err
	}
	if res.MatchedCount == 0 {
		return ErrConflict
	}
	return nil
}
