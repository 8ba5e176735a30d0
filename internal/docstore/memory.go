package docstore

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

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

// CreateCollection implements Database. A map needs no index.
func (m *Memory) CreateCollection(_ context.Context, name string, _ ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.colls[name] == nil {
		m.colls[name] = map[string][]byte{}
	}
	return nil
}

// HasCollection implements Database.
func (m *Memory) HasCollection(_ context.Context, name string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.colls[name] != nil, nil
}

type memoryCollection struct {
	m    *Memory
	name string
}

// key is the _id as its BSON type and bytes, so the string "1" and the
// number 1 are different ids, as in MongoDB.
func key(v bson.RawValue) string { return string(rune(v.Type)) + string(v.Value) }

func idKey(id any) (string, error) {
	b, err := bson.Marshal(bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return "", err
	}
	return key(bson.Raw(b).Lookup("_id")), nil
}

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
	k, err := idKey(id)
	if err != nil {
		return err
	}
	c.m.mu.Lock()
	doc, ok := c.m.colls[c.name][k]
	c.m.mu.Unlock()
	if !ok {
		return ErrNotFound
	}
	return bson.Unmarshal(doc, v)
}

func (c memoryCollection) Delete(_ context.Context, ids ...any) error {
	keys := make([]string, len(ids))
	for i, id := range ids {
		var err error
		if keys[i], err = idKey(id); err != nil {
			return err
		}
	}
	c.m.mu.Lock()
	for _, k := range keys {
		delete(c.m.colls[c.name], k)
	}
	c.m.mu.Unlock()
	return nil
}

func (c memoryCollection) Due(_ context.Context, field string, t time.Time, limit int, results any) error {
	out := reflect.ValueOf(results)
	if out.Kind() != reflect.Pointer || out.Elem().Kind() != reflect.Slice {
		return fmt.Errorf("results is a %T, not a pointer to a slice", results)
	}
	type due struct {
		at  time.Time
		doc bson.Raw
	}
	var found []due
	c.m.mu.Lock()
	for _, b := range c.m.colls[c.name] {
		v, err := bson.Raw(b).LookupErr(field)
		if err != nil || v.Type != bson.TypeDateTime {
			continue
		}
		if at := v.Time(); !at.After(t) {
			found = append(found, due{at, b})
		}
	}
	c.m.mu.Unlock()
	slices.SortFunc(found, func(a, b due) int { return a.at.Compare(b.at) })
	slice := reflect.MakeSlice(out.Elem().Type(), 0, min(len(found), limit))
	for _, d := range found[:min(len(found), limit)] {
		v := reflect.New(out.Elem().Type().Elem())
		if err := bson.Unmarshal(d.doc, v.Interface()); err != nil {
			return err
		}
		slice = reflect.Append(slice, v.Elem())
	}
	out.Elem().Set(slice)
	return nil
}
