package orderapi

import (
	"time"

	"github.com/orderflow/orderflow/ordersvc/order"
)

// The internal HTTP API, for the gateway:
//
//	POST  /v1/orders                    {"userId","productId","productName","amountSen","idempotencyKey"}
//	GET   /v1/orders/{id}
//	PATCH /v1/orders/{id}               {"orderStatus":"Cancelled"|"Confirmed"}
//	GET   /v1/users/{userId}/orders?limit=N&cursor=C
//
// Responses carry {"order":ORDER}, {"order":ORDER,"replayed":bool} or
// {"orders":[ORDER],"nextCursor":C}; errors use the shape of package httperr,
// with the codes of errors.go.

// orderJSON is an order on the internal API.
type orderJSON struct {
	ID            string    `json:"id"`
	UserID        string    `json:"userId"`
	ProductID     string    `json:"productId"`
	ProductName   string    `json:"productName"`
	AmountSen     int64     `json:"amountSen"`
	Currency      string    `json:"currency"`
	OrderStatus   string    `json:"orderStatus"`
	PaymentStatus string    `json:"paymentStatus"`
	PaymentID     string    `json:"paymentId,omitempty"`
	DeclineReason string    `json:"declineReason,omitempty"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
}

func toJSON(o order.Order) orderJSON {
	return orderJSON{
		ID: o.ID, UserID: o.UserID, ProductID: o.ProductID, ProductName: o.ProductName,
		AmountSen: int64(o.Amount), Currency: order.Currency,
		OrderStatus: string(o.Status), PaymentStatus: string(o.PaymentStatus),
		PaymentID: o.PaymentID, DeclineReason: o.DeclineReason,
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
	}
}

func (j orderJSON) order() order.Order {
	return order.Order{
		ID: j.ID, UserID: j.UserID, ProductID: j.ProductID, ProductName: j.ProductName,
		Amount: order.Sen(j.AmountSen), Status: order.Status(j.OrderStatus), PaymentStatus: order.PaymentStatus(j.PaymentStatus),
		PaymentID: j.PaymentID, DeclineReason: j.DeclineReason,
		CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt,
	}
}

type createOrderBody struct {
	UserID         string `json:"userId"`
	ProductID      string `json:"productId"`
	ProductName    string `json:"productName"`
	AmountSen      int64  `json:"amountSen"`
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
}

type setStatusBody struct {
	OrderStatus string `json:"orderStatus"`
}

type orderBody struct {
	Order    orderJSON `json:"order"`
	Replayed bool      `json:"replayed,omitempty"`
}

type ordersBody struct {
	Orders     []orderJSON `json:"orders"`
	NextCursor string      `json:"nextCursor,omitempty"`
}
