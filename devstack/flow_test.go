package devstack_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/testenv"
)

const settle = 10 * time.Second // generous for a loaded CI machine; a paid order usually settles in milliseconds

func TestAPaidOrderEndsSuccessPaid(t *testing.T) {
	s := startSystem(t, true)
	r := s.do("POST", "/orders", `{"userId":"u1","productId":"1","productName":"Keyboard","totalOrderAmount":"RM 99","orderStatus":"Success","createdAt":"2020-01-01T00:00:00Z"}`)
	if r.status != http.StatusCreated || r.body["ok"] != true {
		t.Fatalf("want 201 ok, have %d %s", r.status, r.raw)
	}
	id := r.body["created"].(map[string]any)["id"].(string)
	if loc := r.header.Get("Location"); loc != "/orders/one/"+id {
		t.Errorf("want Location /orders/one/%s, have %q", id, loc)
	}
	if r.header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}
	order := r.body["order"].(map[string]any)
	for k, want := range map[string]any{
		"id": id, "userId": "u1", "productId": "1", "productName": "Keyboard",
		"totalOrderAmount": "RM 99.00", "orderStatus": "Processing", "paymentStatus": "Pending",
	} {
		if order[k] != want {
			t.Errorf("order.%s: want %v, have %v", k, want, order[k])
		}
	}
	if _, err := time.Parse(time.RFC3339, order["createdAt"].(string)); err != nil || strings.HasPrefix(order["createdAt"].(string), "2020") {
		t.Errorf("createdAt: want the server's RFC 3339 time, have %v", order["createdAt"])
	}

	s.waitStatus(id, "Success", "Paid", settle)
	one := s.do("GET", "/orders/one/"+id, "")
	if one.status != http.StatusOK || one.body["order"].(map[string]any)["paymentStatus"] != "Paid" {
		t.Errorf("GET /orders/one: want 200 Paid, have %d %s", one.status, one.raw)
	}

	// It was charged once, however many times redelivery announced it
	// before the outcome arrived.
	if n := s.paymentRecords(id); n != 1 {
		t.Errorf("want 1 payment record, have %d", n)
	}

	// Each service counts what it did (a redelivery may count twice), and
	// what it asked of the stores.
	for _, c := range []struct{ base, series string }{
		{s.gatewayURL, `gateway_http_requests_total{method="POST",route="POST /orders",status="201"}`},
		{"http://" + s.orders.addr, `ordersvc_messages_total{channel="payments.processed",result="handled"}`},
		{"http://" + s.payments.addr, `paymentsvc_messages_total{channel="orders.created",result="handled"}`},
		{"http://" + s.orders.addr, `ordersvc_store_commands_total{collection="order_changes",command="insert"}`},
		{"http://" + s.orders.addr, `ordersvc_store_documents_total{collection="user_orders",command="insert"}`},
		{"http://" + s.orders.addr, `ordersvc_store_commands_total{collection="order_changes",command="find"}`},
		{"http://" + s.payments.addr, `paymentsvc_store_documents_total{collection="payments",command="insert"}`},
		{"http://" + s.orders.addr, `ordersvc_redis_commands_total{command="publish"}`},
		{"http://" + s.payments.addr, `paymentsvc_redis_commands_total{command="publish"}`},
	} {
		if n := metricValue(t, c.base, c.series); n < 1 {
			t.Errorf("%s/metrics: want %s at least 1, have %v", c.base, c.series, n)
		}
	}

	// One request id follows the order through all three services.
	reqID := r.header.Get("X-Request-Id")
	for _, svc := range []string{"gateway", "ordersvc", "paymentsvc"} {
		if s.logCount(svc, id, "correlation_id="+reqID) == 0 {
			t.Errorf("%s logged nothing about order %s with correlation_id %s", svc, id, reqID)
		}
	}
}

func TestADeclinedOrderEndsFailedDeclined(t *testing.T) {
	s := startSystem(t, true)
	id := s.createOrder("u1", "2")
	s.waitStatus(id, "Failed", "Declined", settle)
	r := s.do("PUT", "/orders", `{"orderId":"`+id+`","orderStatus":"Cancelled"}`)
	if r.status != http.StatusConflict {
		t.Errorf("cancel a failed order: want 409, have %d %s", r.status, r.raw)
	}
}

func TestAPaidOrderCanBeConfirmedAndThenNotCancelled(t *testing.T) {
	s := startSystem(t, true)
	id := s.createOrder("u1", "1")
	s.waitStatus(id, "Success", "Paid", settle)
	r := s.do("PUT", "/orders", `{"orderId":"`+id+`","orderStatus":"Confirmed"}`)
	if r.status != http.StatusOK || r.body["order"].(map[string]any)["orderStatus"] != "Confirmed" {
		t.Fatalf("confirm: want 200 Confirmed, have %d %s", r.status, r.raw)
	}
	r = s.do("PUT", "/orders", `{"orderId":"`+id+`","orderStatus":"Cancelled"}`)
	if r.status != http.StatusConflict || r.body["error"].(map[string]any)["code"] != "transition_not_allowed" {
		t.Fatalf("cancel a confirmed order: want 409 transition_not_allowed, have %d %s", r.status, r.raw)
	}
	if msg := r.body["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "Confirmed") {
		t.Errorf("want the message to name the current status, have %q", msg)
	}
}

func TestCancellingAPaidOrderRefundsIt(t *testing.T) {
	s := startSystem(t, true)
	id := s.createOrder("u1", "1")
	s.waitStatus(id, "Success", "Paid", settle)
	r := s.do("PUT", "/orders", `{"orderId":"`+id+`","orderStatus":"Cancelled"}`)
	if r.status != http.StatusOK {
		t.Fatalf("cancel: want 200, have %d %s", r.status, r.raw)
	}
	s.waitStatus(id, "Cancelled", "Refunded", settle)
	if n := s.refundRecords(id); n != 1 {
		t.Errorf("want 1 refund, have %d", n)
	}
	if put := r.header.Get("X-Request-Id"); s.logCount("paymentsvc", id, "correlation_id="+put) == 0 {
		t.Errorf("the refund does not carry the cancelling request's id %s", put)
	}
}

func TestAnOrderCancelledWhilePendingIsRefundedWhenItsPaymentArrives(t *testing.T) {
	s := startSystem(t, false) // paymentsvc is down: the payment stays Pending
	id := s.createOrder("u1", "1")
	r := s.do("PUT", "/orders", `{"orderId":"`+id+`","orderStatus":"Cancelled"}`)
	if r.status != http.StatusOK || r.body["order"].(map[string]any)["paymentStatus"] != "Pending" {
		t.Fatalf("cancel while pending: want 200 Cancelled/Pending, have %d %s", r.status, r.raw)
	}
	s.start(s.payments)
	s.waitStatus(id, "Cancelled", "Refunded", settle)
}

func TestAnOrderPublishedToNobodyIsPaidOncePaymentsvcStarts(t *testing.T) {
	s := startSystem(t, false)
	id := s.createOrder("u1", "1")
	testenv.Eventually(t, settle, "the outbox never announced the order again", func() bool {
		return metricValue(t, "http://"+s.orders.addr, "ordersvc_redeliveries_total") >= 1
	})
	s.start(s.payments)
	s.waitStatus(id, "Success", "Paid", settle)
}

func TestIdempotencyKeyReplaysTheFirstOrder(t *testing.T) {
	s := startSystem(t, true)
	body := `{"userId":"u1","productId":"1","productName":"Keyboard","totalOrderAmount":"RM 99"}`
	first := s.do("POST", "/orders", body, "Idempotency-Key", "checkout-7")
	if first.status != http.StatusCreated {
		t.Fatalf("want 201, have %d %s", first.status, first.raw)
	}
	id := first.body["created"].(map[string]any)["id"].(string)
	s.waitStatus(id, "Success", "Paid", settle)
	again := s.do("POST", "/orders", body, "Idempotency-Key", "checkout-7")
	if again.status != http.StatusCreated || again.header.Get("Idempotent-Replayed") != "true" || again.header.Get("Location") != first.header.Get("Location") {
		t.Errorf("want 201 replayed with the first Location, have %d %v", again.status, again.header)
	}
	if again.body["created"].(map[string]any)["id"] != id || again.body["order"].(map[string]any)["orderStatus"] != "Processing" {
		t.Errorf("want the first answer again (order %s, Processing), have %s", id, again.raw)
	}
	changed := s.do("POST", "/orders", strings.Replace(body, "RM 99", "RM 98", 1), "Idempotency-Key", "checkout-7")
	if changed.status != http.StatusUnprocessableEntity || changed.body["error"].(map[string]any)["code"] != "idempotency_key_reused" {
		t.Errorf("same key, other body: want 422 idempotency_key_reused, have %d %s", changed.status, changed.raw)
	}
	list := s.do("GET", "/orders/u1", "")
	if n := len(list.body["orders"].([]any)); n != 1 {
		t.Errorf("want 1 order for u1, have %d", n)
	}
}

func TestListingPagesNewestFirst(t *testing.T) {
	s := startSystem(t, true)
	var ids []string
	for range 5 {
		ids = append([]string{s.createOrder("pager", "2")}, ids...)
	}
	s.createOrder("someone-else", "2")

	var have []string
	cursor := ""
	for page := 0; ; page++ {
		path := "/orders/pager?limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := s.do("GET", path, "")
		if r.status != http.StatusOK {
			t.Fatalf("page %d: want 200, have %d %s", page, r.status, r.raw)
		}
		for _, o := range r.body["orders"].([]any) {
			have = append(have, o.(map[string]any)["id"].(string))
		}
		next, _ := r.body["nextCursor"].(string)
		if next == "" {
			if _, present := r.body["nextCursor"]; !present {
				t.Error("the last page has no nextCursor field: want null")
			}
			break
		}
		cursor = next
	}
	if strings.Join(have, ",") != strings.Join(ids, ",") {
		t.Errorf("want %v, have %v", ids, have)
	}
	if r := s.do("GET", "/orders/pager", ""); len(r.body["orders"].([]any)) != 5 || r.body["nextCursor"] != nil {
		t.Errorf("default limit: want all 5 orders and a null cursor, have %s", r.raw)
	}
}

func TestBadRequestsGetClearErrorsAndChangeNothing(t *testing.T) {
	s := startSystem(t, true)
	id := s.createOrder("u1", "2")
	s.waitStatus(id, "Failed", "Declined", settle)
	unknown := "0123456789abcdef01234567"
	big := `{"userId":"u1","productId":"1","productName":"` + strings.Repeat("x", 17<<10) + `","totalOrderAmount":1}`
	for _, tc := range []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		code                     string
		field                    string
	}{
		{"invalid JSON", "POST", "/orders", `{"userId":`, nil, 400, "invalid_json", ""},
		{"a missing field", "POST", "/orders", `{"productId":"1","productName":"K","totalOrderAmount":1}`, nil, 400, "validation_failed", "userId"},
		{"an unknown field", "POST", "/orders", `{"userId":"u1","productId":"1","productName":"K","totalOrderAmount":1,"coupon":"x"}`, nil, 400, "validation_failed", "coupon"},
		{"a bad amount", "POST", "/orders", `{"userId":"u1","productId":"1","productName":"K","totalOrderAmount":"RM 1.999"}`, nil, 400, "validation_failed", "totalOrderAmount"},
		{"a bad Idempotency-Key", "POST", "/orders", `{"userId":"u1","productId":"1","productName":"K","totalOrderAmount":1}`, []string{"Idempotency-Key", strings.Repeat("k", 256)}, 400, "validation_failed", "Idempotency-Key"},
		{"a body over 16 KiB", "POST", "/orders", big, nil, 413, "body_too_large", ""},
		{"not JSON", "POST", "/orders", `userId=u1`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type", ""},
		{"a malformed order id", "GET", "/orders/one/xyz", "", nil, 400, "invalid_order_id", ""},
		{"an unknown order id", "GET", "/orders/one/" + unknown, "", nil, 404, "order_not_found", ""},
		{"a malformed status id", "GET", "/orders/status/xyz", "", nil, 400, "invalid_order_id", ""},
		{"an unknown status id", "GET", "/orders/status/" + unknown, "", nil, 404, "order_not_found", ""},
		{"a bad userId", "GET", "/orders/not%20ok", "", nil, 400, "invalid_user_id", ""},
		{"a limit of 0", "GET", "/orders/u1?limit=0", "", nil, 400, "invalid_limit", ""},
		{"a limit over 200", "GET", "/orders/u1?limit=201", "", nil, 400, "invalid_limit", ""},
		{"a made-up cursor", "GET", "/orders/u1?cursor=abc", "", nil, 400, "invalid_cursor", ""},
		{"a status the server owns", "PUT", "/orders", `{"orderId":"` + id + `","orderStatus":"Success"}`, nil, 400, "validation_failed", "orderStatus"},
		{"a PUT of an unknown order", "PUT", "/orders", `{"orderId":"` + unknown + `","orderStatus":"Cancelled"}`, nil, 404, "order_not_found", ""},
		{"a forbidden transition", "PUT", "/orders", `{"orderId":"` + id + `","orderStatus":"Confirmed"}`, nil, 409, "transition_not_allowed", ""},
		{"a PUT that is not JSON", "PUT", "/orders", `x`, []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type", ""},
		{"a wrong method", "DELETE", "/orders", "", nil, 405, "method_not_allowed", ""},
		{"a wrong method on an order", "DELETE", "/orders/one/" + id, "", nil, 405, "method_not_allowed", ""},
		{"a wrong method on health", "POST", "/healthz", "{}", nil, 405, "method_not_allowed", ""},
		{"a wrong method on the document", "POST", "/api-json", "{}", nil, 405, "method_not_allowed", ""},
		{"an unknown route", "GET", "/nothing/here", "", nil, 404, "route_not_found", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(tc.method, tc.path, tc.body, tc.headers...)
			if r.status != tc.status || r.body["ok"] != false {
				t.Fatalf("want %d, have %d %s", tc.status, r.status, r.raw)
			}
			e := r.body["error"].(map[string]any)
			if e["code"] != tc.code || e["message"] == "" {
				t.Errorf("want code %s and a message, have %v", tc.code, e)
			}
			if tc.field != "" {
				if fields, _ := e["fields"].(map[string]any); fields[tc.field] == nil {
					t.Errorf("want field %s named, have %v", tc.field, e["fields"])
				}
			}
		})
	}
	if o, p := s.status(id); o != "Failed" || p != "Declined" {
		t.Errorf("the order changed: %s/%s", o, p)
	}
	if r := s.do("GET", "/orders/u1", ""); len(r.body["orders"].([]any)) != 1 {
		t.Errorf("bad POSTs created orders: %s", r.raw)
	}
}

func TestGatewayAnswers503WhenOrdersvcIsDown(t *testing.T) {
	s := startSystem(t, true)
	s.stop(s.orders)
	r := s.do("POST", "/orders", `{"userId":"u1","productId":"1","productName":"K","totalOrderAmount":1}`)
	if r.status != http.StatusServiceUnavailable || r.body["error"].(map[string]any)["code"] != "upstream_unavailable" {
		t.Fatalf("want 503 upstream_unavailable, have %d %s", r.status, r.raw)
	}
	if strings.Contains(r.raw, "127.0.0.1") || strings.Contains(r.raw, "dial") {
		t.Errorf("the error leaks internals: %s", r.raw)
	}
	// Taking the gateway out of its Service would turn this JSON 503 into
	// a load balancer's error page.
	if !s.ready(s.gateway) || s.dependency(s.gateway, "ordersvc") != "failing" {
		t.Error("the gateway should stay ready and report ordersvc failing")
	}
}

func TestGatewayAnswers503WhenTheStoreIsDown(t *testing.T) {
	s := startSystem(t, true)
	s.mongo.Stop()
	r := s.do("POST", "/orders", `{"userId":"u1","productId":"1","productName":"K","totalOrderAmount":1}`)
	if r.status != http.StatusServiceUnavailable || r.body["error"].(map[string]any)["code"] != "store_unavailable" {
		t.Fatalf("want 503 store_unavailable, have %d %s", r.status, r.raw)
	}
	for _, p := range []*inProcess{s.orders, s.gateway} {
		if !s.ready(p) {
			t.Errorf("%s left its Service over an outage every replica shares", p.name)
		}
	}
	if s.dependency(s.orders, "mongodb") != "failing" {
		t.Error("ordersvc's /readyz does not report MongoDB failing")
	}
}

// metricValue returns the value of one series of base's /metrics, or -1 when
// it is missing.
func metricValue(t *testing.T, base, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(doHTTP(t, base, "GET", "/metrics", "").raw, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("series %s: %v", series, err)
			}
			return n
		}
	}
	return -1
}
