package gateway

import "github.com/orderflow/orderflow/ordersvc/order"

// The public JSON shapes. Their field names are those of the original
// system's API, which clients already use.

// OrderView is an order as the public API shows it.
type OrderView struct {
	ID               string `json:"id" example:"6760f3b2a1c4e5d6f7a8b9c0"`
	UserID           string `json:"userId" example:"user-42"`
	ProductID        string `json:"productId" example:"1"`
	ProductName      string `json:"productName" example:"Mechanical keyboard"`
	TotalOrderAmount string `json:"totalOrderAmount" example:"RM 99.00"`
	OrderStatus      string `json:"orderStatus" enums:"Processing,Success,Failed,Cancelled,Confirmed" example:"Processing"`
	PaymentStatus    string `json:"paymentStatus" enums:"Pending,Paid,Declined,Refunding,Refunded" example:"Pending"`
	CreatedAt        string `json:"createdAt" example:"2026-11-25T10:00:00.000Z"`
	UpdatedAt        string `json:"updatedAt" example:"2026-11-25T10:00:00.000Z"`
} // @name Order

const timeFormat = "2006-01-02T15:04:05.000Z07:00"

func viewOf(o order.Order) OrderView {
	return OrderView{
		ID:               o.ID,
		UserID:           o.UserID,
		ProductID:        o.ProductID,
		ProductName:      o.ProductName,
		TotalOrderAmount: FormatAmount(o.Amount),
		OrderStatus:      string(o.Status),
		PaymentStatus:    string(o.PaymentStatus),
		CreatedAt:        o.CreatedAt.UTC().Format(timeFormat),
		UpdatedAt:        o.UpdatedAt.UTC().Format(timeFormat),
	}
}

// CreateOrderInput is the body of POST /orders (documentation only: the
// decoder reads each field raw to report what is wrong with it).
type CreateOrderInput struct {
	UserID      string `json:"userId" example:"user-42" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_-]+$"`
	ProductID   string `json:"productId" example:"1" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_-]+$"`
	ProductName string `json:"productName" example:"Mechanical keyboard" minLength:"1" maxLength:"200"`
	// "RM 99", "RM 12.50", "12.50" or a JSON number; more than 0, at most 1000000, 2 decimals.
	TotalOrderAmount string `json:"totalOrderAmount" example:"RM 99.00"`
	// Accepted and ignored: the server owns it.
	OrderStatus string `json:"orderStatus,omitempty"`
	// Accepted and ignored: the server owns it.
	CreatedAt string `json:"createdAt,omitempty"`
} // @name CreateOrderInput

// SetStatusInput is the body of PUT /orders.
type SetStatusInput struct {
	OrderID     string `json:"orderId" example:"6760f3b2a1c4e5d6f7a8b9c0"`
	OrderStatus string `json:"orderStatus" enums:"Cancelled,Confirmed" example:"Cancelled"`
} // @name SetStatusInput

// CreatedID names the created order.
type CreatedID struct {
	ID string `json:"id" example:"6760f3b2a1c4e5d6f7a8b9c0"`
} // @name CreatedID

// CreatedOrder answers POST /orders.
type CreatedOrder struct {
	OK      bool      `json:"ok" example:"true"`
	Created CreatedID `json:"created"`
	Order   OrderView `json:"order"`
} // @name CreatedOrder

// OneOrder answers GET /orders/one/{orderId} and PUT /orders.
type OneOrder struct {
	OK    bool      `json:"ok" example:"true"`
	Order OrderView `json:"order"`
} // @name OneOrder

// OrderStatus answers GET /orders/status/{orderId}.
type OrderStatus struct {
	OK            bool   `json:"ok" example:"true"`
	OrderID       string `json:"orderId" example:"6760f3b2a1c4e5d6f7a8b9c0"`
	OrderStatus   string `json:"orderStatus" example:"Success"`
	PaymentStatus string `json:"paymentStatus" example:"Paid"`
} // @name OrderStatus

// OrderList answers GET /orders/{userId}.
type OrderList struct {
	OK     bool        `json:"ok" example:"true"`
	Orders []OrderView `json:"orders"`
	// Pass as ?cursor= for the next page; null on the last page.
	NextCursor *string `json:"nextCursor"`
} // @name OrderList

// ErrorBody is every error response.
type ErrorBody struct {
	OK    bool        `json:"ok" example:"false"`
	Error ErrorDetail `json:"error"`
} // @name Error

// ErrorDetail says what went wrong.
type ErrorDetail struct {
	Code    string            `json:"code" example:"validation_failed"`
	Message string            `json:"message" example:"One or more fields are invalid."`
	Fields  map[string]string `json:"fields,omitempty"`
} // @name ErrorDetail
