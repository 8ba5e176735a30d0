package docstore

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Memory is an in-memory Database for fast tests. Documents are kept as
// BSON, so what reads back is what MongoDB would give: the same field names,
// times in milliseconds.
type Memory struct {
	mu    sync.Mutex
	colls map[string]map[string][]byte
}

// NewMemory returns an empty Memory.
func NewMemory() *Memory { return &Memory{colls: map[string]map[string][]byte{}} }

// Collection implements Database.
func (m *Memory) Collection(name string) Collection { return memoryCollection{m, name} }

// CreateCollection implements Database.
func (m *Memory) CreateCollection(_ context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.colls[name] == nil {
		m.colls[name] = map[string][]byte{}
	}
	return nil
}

// DropCollection implements Database.
func (m *Memory) DropCollection(_ context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.colls, name)
	return nil
}

// CollectionNames implements Database.
func (m *Memory) CollectionNames(context.Context) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := make([]string, 0, len(m.colls))
	for name := range m.colls {
		names = append(names, name)
	}
	slices.Sort(names)
	return names, nil
}

type memoryCollection struct {
	m    *Memory
	name string
}

// key is the _id as its BSON type and bytes, so the string "1" and the
// number 1 are different ids, as in MongoDB.
func key(v bson.RawValue) string { return string(rune(v.Type)) + string(v.Value) }

func (c memoryCollection) Insert(_ context.Context, doc any) error {
	b, err := bson.Marshal(doc)
	if err != nil {
		return err
	}
	id, err := bson.Raw(b).LookupErr("_id")
	if err != nil {
		return fmt.Errorf("document without _id: %w", err)
	}
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	coll := c.m.colls[c.name]
	if coll == nil { // as in MongoDB, an insert creates the collection
		coll = map[string][]byte{}
		c.m.colls[c.name] = coll
	}
	if _, taken := coll[key(id)]; taken {
		return ErrDuplicate
	}
	coll[key(id)] = b
	return nil
}

func (c memoryCollection) Find(_ context.Context, id, v any) error {
	b, err := bson.Marshal(bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return err
	}
	c.m.mu.Lock()
	doc, ok := c.m.colls[c.name][key(bson.Raw(b).Lookup("_id"))]
	c.m.mu.Unlock()
	if !ok {
		return ErrNotFound
	}
	return bson.Unmarshal(doc, v)
}
