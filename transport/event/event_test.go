package event_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/transport/event"
)

const orderID = "6b06df22a1b2c3d4e5f60718"

func TestANewEnvelopeHasAFreshIDAndTheTime(t *testing.T) {
	before := time.Now().UTC()
	a, b := event.NewMeta(event.TypeOrderCreated, orderID, "c1"), event.NewMeta(event.TypeOrderCreated, orderID, "c1")
	if a.EventID == b.EventID || !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(a.EventID) {
		t.Errorf("want two different 128-bit hex event ids, have %q and %q", a.EventID, b.EventID)
	}
	if a.Type != event.TypeOrderCreated || a.OrderID != orderID || a.CorrelationID != "c1" || a.OccurredAt.Before(before) || a.OccurredAt.Location() != time.UTC {
		t.Errorf("want the envelope of order %s now, have %+v", orderID, a)
	}
	if m := a.WithTrace("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"); m.TraceParent == "" || a.TraceParent != "" {
		t.Error("WithTrace sets the trace on a copy")
	}
}

func TestCheckRefusesAnotherContractOrAnOrderIDThatIsNotOne(t *testing.T) {
	m := event.NewMeta(event.TypePaymentProcessed, orderID, "c1")
	if err := m.Check(event.TypePaymentProcessed); err != nil {
		t.Errorf("its own type: want nil, have %v", err)
	}
	for name, c := range map[string]struct{ typ, order string }{
		"another type":    {event.TypePaymentRefunded, orderID},
		"another version": {"payments.processed.v2", orderID},
		"no order id":     {event.TypePaymentProcessed, ""},
		"upper case":      {event.TypePaymentProcessed, strings.ToUpper(orderID)},
		"too short":       {event.TypePaymentProcessed, orderID[:23]},
		"not hex":         {event.TypePaymentProcessed, "zz06df22a1b2c3d4e5f60718"},
	} {
		bad := m
		bad.OrderID = c.order
		if err := bad.Check(c.typ); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

// The wire names of a contract are the contract: a field renamed here is
// renamed for every consumer.
func TestTheContractsKeepTheirWireNames(t *testing.T) {
	m := event.Meta{Type: event.TypeOrderCreated, EventID: "e1", OrderID: orderID, CorrelationID: "c1",
		OccurredAt: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	b, err := json.Marshal(event.OrderCreated{Meta: m, UserID: "u1", ProductID: "1", Money: event.Money{Amount: 9900, Currency: "MYR"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"orders.created.v1","eventId":"e1","orderId":"` + orderID + `","correlationId":"c1","occurredAt":"2026-03-01T10:00:00Z","userId":"u1","productId":"1","amount":9900,"currency":"MYR"}`
	if string(b) != want {
		t.Errorf("want\n%s\nhave\n%s", want, b)
	}
	b, _ = json.Marshal(event.PaymentProcessed{Meta: m, PaymentID: "p1", Outcome: event.OutcomeDeclined, Reason: "r"})
	if !strings.Contains(string(b), `"paymentId":"p1","outcome":"Declined","reason":"r"`) {
		t.Errorf("payments.processed: have %s", b)
	}
}
