// Package apidoc makes the gateway's OpenAPI 3 document from the Swagger
// 2.0 one that swag generates from its annotations: it converts it, then
// says what swag's annotations cannot (a field that is a string or a
// number, a nullable field, the bearer scheme as optional, an example of
// each error), so that a client generator reads the API as the server
// answers it. The end-to-end tests validate every request and response
// against the result.
package apidoc

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
)

// Patterns of the API's ids.
const (
	orderIDPattern = `^[0-9a-f]{24}$`
	userIDPattern  = `^[A-Za-z0-9_-]{1,64}$`
	amountPattern  = `^(RM ?)?[0-9]+(\.[0-9]{1,2})?$`
)

// Convert returns the OpenAPI 3 document of the Swagger 2.0 document
// swagger2, indented as it is committed.
func Convert(swagger2 []byte) ([]byte, error) {
	var v2 openapi2.T
	if err := json.Unmarshal(swagger2, &v2); err != nil {
		return nil, fmt.Errorf("read the Swagger 2.0 document: %w", err)
	}
	doc, err := openapi2conv.ToV3(&v2)
	if err != nil {
		return nil, fmt.Errorf("convert to OpenAPI 3: %w", err)
	}
	if err := complete(doc); err != nil {
		return nil, err
	}
	if err := doc.Validate(openapi3.NewLoader().Context); err != nil {
		return nil, fmt.Errorf("the OpenAPI 3 document is not valid: %w", err)
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func complete(doc *openapi3.T) error {
	doc.Servers = openapi3.Servers{{URL: "/", Description: "the gateway that serves this document"}}
	doc.Components.SecuritySchemes = openapi3.SecuritySchemes{"BearerAuth": {Value: &openapi3.SecurityScheme{
		Type: "http", Scheme: "bearer", BearerFormat: "JWT",
		Description: "Needed when the gateway has sign-in on (-auth.hs256.secret or -auth.jwks.url): the token's sub is the userId a request acts for. Without it, no token is needed.",
	}}}

	schemas := doc.Components.Schemas
	for name, required := range map[string][]string{
		"Order":            {"id", "userId", "productId", "productName", "totalOrderAmount", "orderStatus", "paymentStatus", "createdAt", "updatedAt"},
		"CreateOrderInput": {"userId", "productId", "productName", "totalOrderAmount"},
		"SetStatusInput":   {"orderId", "orderStatus"},
		"CreatedID":        {"id"},
		"CreatedOrder":     {"ok", "created", "order"},
		"OneOrder":         {"ok", "order"},
		"OrderStatus":      {"ok", "orderId", "orderStatus", "paymentStatus"},
		"OrderList":        {"ok", "orders", "nextCursor"},
		"Error":            {"ok", "error"},
		"ErrorDetail":      {"code", "message"},
	} {
		s, ok := schemas[name]
		if !ok || s.Value == nil {
			return fmt.Errorf("schema %s is missing: were the gateway's types renamed?", name)
		}
		s.Value.Required = required
	}
	prop := func(schema, name string) *openapi3.Schema { return schemas[schema].Value.Properties[name].Value }
	for _, p := range []struct{ schema, name, pattern string }{
		{"Order", "id", orderIDPattern}, {"Order", "userId", userIDPattern}, {"Order", "productId", userIDPattern},
		{"CreatedID", "id", orderIDPattern}, {"OrderStatus", "orderId", orderIDPattern},
		{"CreateOrderInput", "userId", userIDPattern}, {"CreateOrderInput", "productId", userIDPattern},
		{"SetStatusInput", "orderId", orderIDPattern},
	} {
		prop(p.schema, p.name).Pattern = p.pattern
	}
	prop("Order", "totalOrderAmount").Pattern = `^RM [0-9]+\.[0-9]{2}$`
	prop("OrderList", "nextCursor").Nullable = true

	// totalOrderAmount is written "RM 12.50", "12.50" or 12.5.
	in := schemas["CreateOrderInput"].Value
	amount := in.Properties["totalOrderAmount"].Value
	in.Properties["totalOrderAmount"] = openapi3.NewSchemaRef("", &openapi3.Schema{
		Description: amount.Description,
		OneOf: openapi3.SchemaRefs{
			openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{"string"}, Pattern: amountPattern, Example: "RM 99.00"}),
			openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{"number"}, Min: ptr(0.01), Max: ptr(1_000_000.0), Example: 99}),
		},
	})
	// The original clients' orderStatus and createdAt are accepted and
	// ignored: documented, but kept out of the example a client copies.
	in.Example = map[string]any{"userId": "user-42", "productId": "1", "productName": "Mechanical keyboard", "totalOrderAmount": "RM 99.00"}
	for _, name := range []string{"orderStatus", "createdAt"} {
		in.Properties[name].Value.Deprecated = true
	}

	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			// Sign-in is optional: the gateway needs it only when configured.
			if op.Security != nil {
				op.Security = &openapi3.SecurityRequirements{{"BearerAuth": {}}, {}}
			}
			for _, p := range op.Parameters {
				switch p.Value.Name {
				case "orderId":
					p.Value.Schema.Value.Pattern = orderIDPattern
				case "userId":
					p.Value.Schema.Value.Pattern = userIDPattern
				}
			}
			if err := exampleErrors(method+" "+path, op); err != nil {
				return err
			}
		}
	}
	return nil
}

// errorExample is the body of one error answer.
type errorExample struct {
	code, message string
	fields        map[string]string
}

// examples are the errors each status stands for, by operation where they
// differ.
var examples = map[string]errorExample{
	"400":                              {"validation_failed", "One or more fields are invalid.", map[string]string{"userId": "is required", "totalOrderAmount": "must be more than 0"}},
	"GET /orders/one/{orderId} 400":    {"invalid_order_id", "The order id must be 24 hexadecimal characters.", nil},
	"GET /orders/status/{orderId} 400": {"invalid_order_id", "The order id must be 24 hexadecimal characters.", nil},
	"GET /orders/{userId} 400":         {"invalid_cursor", "The cursor is not one this API returned.", nil},
	"401":                              {"unauthorized", "Sign in: send Authorization: Bearer <token>.", nil},
	"403":                              {"forbidden", "The token is for another user than the one this request is for.", nil},
	"404":                              {"order_not_found", "No order has this id.", nil},
	"409":                              {"transition_not_allowed", "Order is Failed, which is final; it cannot become Cancelled.", nil},
	"413":                              {"body_too_large", "The body is larger than 16384 bytes.", nil},
	"415":                              {"unsupported_media_type", "Send the body as JSON, with Content-Type: application/json.", nil},
	"422":                              {"idempotency_key_reused", "This Idempotency-Key was already used by this user with a different request.", nil},
	"429":                              {"rate_limited", "Too many requests from this client; retry in 2 s.", nil},
	"503":                              {"store_unavailable", "The order store is unavailable; try again shortly.", nil},
	"504":                              {"upstream_timeout", "The order service did not answer in time; try again.", nil},
}

// exampleErrors gives each error answer of op its own example, and the
// Retry-After header where the answer has one.
func exampleErrors(name string, op *openapi3.Operation) error {
	statuses := make([]string, 0, op.Responses.Len())
	for status := range op.Responses.Map() {
		statuses = append(statuses, status)
	}
	sort.Strings(statuses)
	for _, status := range statuses {
		code, err := strconv.Atoi(status)
		if err != nil || code < 400 {
			continue
		}
		ex, ok := examples[name+" "+status]
		if !ok {
			if ex, ok = examples[status]; !ok {
				return fmt.Errorf("%s answers %s, which has no example", name, status)
			}
		}
		resp := op.Responses.Value(status).Value
		detail := map[string]any{"code": ex.code, "message": ex.message}
		if ex.fields != nil {
			fields := map[string]any{}
			for k, v := range ex.fields {
				fields[k] = v
			}
			detail["fields"] = fields
		}
		for _, media := range resp.Content {
			media.Example = map[string]any{"ok": false, "error": detail}
		}
		if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
			if resp.Headers == nil {
				resp.Headers = openapi3.Headers{}
			}
			resp.Headers["Retry-After"] = &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{
				Description: "seconds to wait before trying again (429; 503 when the order service is at capacity)",
				Schema:      openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{"integer"}}),
			}}}
		}
	}
	return nil
}

func ptr(f float64) *float64 { return &f }
