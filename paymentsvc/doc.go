// Package paymentsvc is the paymentsvc process: its configuration (flags,
// each with a PAYMENTSVC_ environment default) and Run, which builds the
// component graph and runs it. The work is done in its packages; an order
// event travels through them like this:
//
//	Redis: orders.created, orders.cancelled
//	  |
//	  v
//	paymentevents handler      decodes the message (transport/event contracts)
//	  |                        into a request of
//	  v
//	paymentapi endpoint        Charge or Refund, which calls
//	  |
//	  v
//	payment service            behind its instrumenting and logging middlewares:
//	  |   |                    asks the Charger (payment.DemoCharger, at once;
//	  |   |                    a provider under the attempt it claims), then
//	  |   +--> paymentstore    records the payment or refund (MongoDB, database "payments")
//	  v
//	paymentevents publisher    reports it to ordersvc
//	  |
//	  v
//	Redis: payments.processed, payments.refunded
//
// Besides, the process serves /healthz, /readyz and /metrics on -http.addr.
package paymentsvc
