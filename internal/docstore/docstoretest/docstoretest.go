// Package docstoretest is the behaviour every docstore.Database must have,
// as one suite that each implementation's tests run.
package docstoretest

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/orderflow/orderflow/internal/docstore"
)

type doc struct {
	ID    string    `bson:"_id"`
	Name  string    `bson:"name"`
	N     int       `bson:"n"`
	At    time.Time `bson:"at"`
	Items []string  `bson:"items,omitempty"`
}

type objectDoc struct {
	ID   bson.ObjectID `bson:"_id"`
	Name string        `bson:"name"`
}

// Run runs the suite; newDB returns an empty Database for each test.
func Run(t *testing.T, newDB func(t *testing.T) docstore.Database) {
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 10, 0, 0, 123_456_789, time.UTC)

	t.Run("a document reads back as it was inserted, times in milliseconds", func(t *testing.T) {
		c := newDB(t).Collection("things")
		want := doc{ID: "a/1", Name: "one", N: 7, At: at, Items: []string{"x", "y"}}
		if err := c.Insert(ctx, want); err != nil {
			t.Fatal(err)
		}
		var have doc
		if err := c.Find(ctx, "a/1", &have); err != nil {
			t.Fatal(err)
		}
		want.At = at.Truncate(time.Millisecond)
		have.At = have.At.UTC()
		if !equal(want, have) {
			t.Errorf("want %+v, have %+v", want, have)
		}
	})

	t.Run("an ObjectID _id is found by the ObjectID, not by its text", func(t *testing.T) {
		c := newDB(t).Collection("things")
		id := bson.NewObjectID()
		if err := c.Insert(ctx, objectDoc{ID: id, Name: "o"}); err != nil {
			t.Fatal(err)
		}
		var have objectDoc
		if err := c.Find(ctx, id, &have); err != nil || have.Name != "o" {
			t.Errorf("want the document, have %+v (%v)", have, err)
		}
		if err := c.Find(ctx, id.Hex(), &have); !errors.Is(err, docstore.ErrNotFound) {
			t.Errorf("by its hex text: want ErrNotFound, have %v", err)
		}
	})

	t.Run("a missing document is ErrNotFound, and does not exist", func(t *testing.T) {
		c := newDB(t).Collection("things")
		var have doc
		if err := c.Find(ctx, "nothing", &have); !errors.Is(err, docstore.ErrNotFound) {
			t.Errorf("want ErrNotFound, have %v", err)
		}
		if err := c.Insert(ctx, doc{ID: "something", At: at}); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]bool{"nothing": false, "something": true} {
			if ok, err := docstore.Exists(ctx, c, id); err != nil || ok != want {
				t.Errorf("Exists(%q): want %v, have %v (%v)", id, want, ok, err)
			}
		}
	})

	t.Run("a collection exists once created or written to", func(t *testing.T) {
		db := newDB(t)
		if err := db.CreateCollection(ctx, "made"); err != nil {
			t.Fatal(err)
		}
		if err := db.Collection("written").Insert(ctx, doc{ID: "w", At: at}); err != nil {
			t.Fatal(err)
		}
		if err := db.Collection("read").Find(ctx, "r", &doc{}); !errors.Is(err, docstore.ErrNotFound) {
			t.Fatalf("want ErrNotFound, have %v", err)
		}
		for name, want := range map[string]bool{"made": true, "written": true, "read": false, "never": false} {
			if ok, err := db.HasCollection(ctx, name); err != nil || ok != want {
				t.Errorf("HasCollection(%q): want %v, have %v (%v)", name, want, ok, err)
			}
		}
	})

	t.Run("an insert of a taken _id is ErrDuplicate and changes nothing", func(t *testing.T) {
		c := newDB(t).Collection("things")
		if err := c.Insert(ctx, doc{ID: "k", Name: "first", At: at}); err != nil {
			t.Fatal(err)
		}
		if err := c.Insert(ctx, doc{ID: "k", Name: "second", At: at}); !errors.Is(err, docstore.ErrDuplicate) {
			t.Errorf("want ErrDuplicate, have %v", err)
		}
		var have doc
		if err := c.Find(ctx, "k", &have); err != nil || have.Name != "first" {
			t.Errorf("want the first document, have %+v (%v)", have, err)
		}
	})

	t.Run("of concurrent inserts of one _id exactly one wins", func(t *testing.T) {
		c := newDB(t).Collection("things")
		for round := range 5 {
			id := "race/" + string(rune('a'+round))
			var wins, dups atomic.Int32
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Go(func() {
					switch err := c.Insert(ctx, doc{ID: id, N: w, At: at}); {
					case err == nil:
						wins.Add(1)
					case errors.Is(err, docstore.ErrDuplicate):
						dups.Add(1)
					default:
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if wins.Load() != 1 || dups.Load() != 7 {
				t.Errorf("round %d: want 1 winner and 7 duplicates, have %d and %d", round, wins.Load(), dups.Load())
			}
		}
	})

	t.Run("of concurrent inserts of many _ids each has its own answer", func(t *testing.T) {
		c := newDB(t).Collection("things")
		const n = 48
		for i := 0; i < n; i += 2 { // every even _id is taken
			if err := c.Insert(ctx, doc{ID: "m/" + strconv.Itoa(i), Name: "first", At: at}); err != nil {
				t.Fatal(err)
			}
		}
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs[i] = c.Insert(ctx, doc{ID: "m/" + strconv.Itoa(i), Name: "second", N: i, At: at}) })
		}
		wg.Wait()
		for i, err := range errs {
			want, name := error(nil), "second"
			if i%2 == 0 {
				want, name = docstore.ErrDuplicate, "first"
			}
			if !errors.Is(err, want) {
				t.Errorf("insert of m/%d: want %v, have %v", i, want, err)
			}
			var have doc
			if err := c.Find(ctx, "m/"+strconv.Itoa(i), &have); err != nil || have.Name != name {
				t.Errorf("m/%d: want the %s document, have %+v (%v)", i, name, have, err)
			}
		}
	})

	t.Run("a deleted document is gone, and deleting it again is fine", func(t *testing.T) {
		c := newDB(t).Collection("things")
		for _, id := range []string{"a", "b"} {
			if err := c.Insert(ctx, doc{ID: id, At: at}); err != nil {
				t.Fatal(err)
			}
		}
		for range 2 {
			if err := c.Delete(ctx, "a"); err != nil {
				t.Fatal(err)
			}
		}
		var have doc
		if err := c.Find(ctx, "a", &have); !errors.Is(err, docstore.ErrNotFound) {
			t.Errorf("deleted: want ErrNotFound, have %v", err)
		}
		if err := c.Find(ctx, "b", &have); err != nil {
			t.Errorf("the other is still there: have %v", err)
		}
		if err := c.Insert(ctx, doc{ID: "a", Name: "again", At: at}); err != nil {
			t.Errorf("a deleted _id is free again: have %v", err)
		}
		for _, id := range []string{"c", "d", "e"} {
			if err := c.Insert(ctx, doc{ID: id, At: at}); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Delete(ctx, "c", "e", "nothing"); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]bool{"a": true, "b": true, "c": false, "d": true, "e": false} {
			if ok, err := docstore.Exists(ctx, c, id); err != nil || ok != want {
				t.Errorf("after deleting c and e at once, %s: want there %v, have %v (%v)", id, want, ok, err)
			}
		}
	})

	t.Run("due documents come earliest first, up to the limit", func(t *testing.T) {
		db := newDB(t)
		for range 2 { // creating an existing collection is fine
			if err := db.CreateCollection(ctx, "queue", "at"); err != nil {
				t.Fatal(err)
			}
		}
		c := db.Collection("queue")
		for i, d := range []time.Duration{3, -2, 0, 5, -1} {
			if err := c.Insert(ctx, doc{ID: "q" + strconv.Itoa(i), N: i, At: at.Add(d * time.Second)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Insert(ctx, objectDoc{ID: bson.NewObjectID(), Name: "no time"}); err != nil {
			t.Fatal(err)
		}
		var due []doc
		if err := c.Due(ctx, "at", at, 10, &due); err != nil {
			t.Fatal(err)
		}
		var have []int
		for _, d := range due {
			have = append(have, d.N)
		}
		if want := []int{1, 4, 2}; !slices.Equal(have, want) {
			t.Errorf("at or before t: want %v, have %v", want, have)
		}
		if err := c.Due(ctx, "at", at.Add(time.Hour), 2, &due); err != nil || len(due) != 2 || due[0].N != 1 || due[1].N != 4 {
			t.Errorf("limited to 2: want the two earliest, have %+v (%v)", due, err)
		}
		if err := c.Due(ctx, "at", at.Add(-time.Hour), 10, &due); err != nil || len(due) != 0 {
			t.Errorf("none due: want none, have %+v (%v)", due, err)
		}
	})
}

func equal(a, b doc) bool {
	return a.ID == b.ID && a.Name == b.Name && a.N == b.N && a.At.Equal(b.At) && slices.Equal(a.Items, b.Items)
}
