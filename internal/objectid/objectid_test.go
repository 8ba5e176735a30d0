package objectid

import (
	"regexp"
	"testing"
	"time"

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

func TestIdsOfLaterSecondsSortLater(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	for i := range 100 {
		a, b := at(t0.Add(time.Duration(i)*time.Second)), at(t0.Add(time.Duration(i+1)*time.Second))
		if a >= b {
			t.Fatalf("%s (second %d) does not sort before %s (second %d)", a, i, b, i+1)
		}
	}
}

// From one's own id, the next one made is not a guess away: ids made one
// after another in the same second differ in many of their random bits.
func TestTheNextIdCannotBeGuessedFromOne(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	prev := at(now)
	for range 1000 {
		id := at(now)
		if id[:8] != prev[:8] {
			t.Fatalf("same second, different time prefix: %s, %s", prev, id)
		}
		a, _ := bson.ObjectIDFromHex(prev)
		b, _ := bson.ObjectIDFromHex(id)
		differ := 0
		for i := 4; i < 12; i++ {
			for x := a[i] ^ b[i]; x != 0; x &= x - 1 {
				differ++
			}
		}
		// 64 random bits differ in 32 on average; fewer than 8 is once in
		// about 10^11 pairs. A counter differs in one or two.
		if differ < 8 {
			t.Fatalf("%s then %s: only %d of 64 bits differ, as a counter's would", prev, id, differ)
		}
		prev = id
	}
}
