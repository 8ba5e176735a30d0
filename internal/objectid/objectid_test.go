package objectid

import (
	"regexp"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestIdsAreObjectIDsAndUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 10_000 {
		id := New()
		if !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(id) {
			t.Fatalf("%q is not 24 hexadecimal characters", id)
		}
		if _, err := bson.ObjectIDFromHex(id); err != nil {
			t.Fatalf("%q is not an ObjectID: %v", id, err)
		}
		if seen[id] {
			t.Fatalf("%q made twice", id)
		}
		seen[id] = true
	}
}
