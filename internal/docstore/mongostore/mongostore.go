// Package mongostore is package docstore on MongoDB (or FerretDB).
package mongostore

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/orderflow/orderflow/internal/docstore"
)

// Database is a docstore.Database on a MongoDB database.
type Database struct {
	db *mongo.Database
}

// New returns the docstore.Database of db.
func New(db *mongo.Database) *Database { return &Database{db: db} }

// Collection implements docstore.Database.
func (d *Database) Collection(name string) docstore.Collection {
	return collection{d.db.Collection(name)}
}

// CreateCollection implements docstore.Database.
func (d *Database) CreateCollection(ctx context.Context, name string) error {
	var cmdErr mongo.CommandError
	if err := d.db.CreateCollection(ctx, name); err != nil && !(errors.As(err, &cmdErr) && cmdErr.Code == 48) { // NamespaceExists
		return storeErr(err)
	}
	return nil
}

// DropCollection implements docstore.Database.
func (d *Database) DropCollection(ctx context.Context, name string) error {
	return storeErr(d.db.Collection(name).Drop(ctx))
}

// CollectionNames implements docstore.Database.
func (d *Database) CollectionNames(ctx context.Context) ([]string, error) {
	names, err := d.db.ListCollectionNames(ctx, bson.D{})
	return names, storeErr(err)
}

type collection struct {
	c *mongo.Collection
}

func (c collection) Insert(ctx context.Context, doc any) error {
	_, err := c.c.InsertOne(ctx, doc)
	return storeErr(err)
}

// Find asks for exactly {_id: id}: the one filter FerretDB's SQLite backend
// sends down to SQL.
func (c collection) Find(ctx context.Context, id, v any) error {
	res := c.c.FindOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err := res.Err(); err != nil {
		return storeErr(err)
	}
	if err := res.Decode(v); err != nil {
		return fmt.Errorf("decode %s %v: %w", c.c.Name(), id, err)
	}
	return nil
}

// storeErr turns a driver error into one of package docstore's.
func storeErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return docstore.ErrNotFound
	case mongo.IsDuplicateKeyError(err):
		return docstore.ErrDuplicate
	case errors.Is(err, context.Canceled):
		return err
	}
	return fmt.Errorf("%w: %v", docstore.ErrUnavailable, err)
}
