// Package flowsvc is the flowsvc process: its configuration (flags, each
// with a FLOWSVC_ environment default) and Run, which builds the component
// graph and runs it. flowsvc serves the flow page, a live view of each
// order's journey through the services:
//
//	Redis: orders.created, payments.processed, orders.cancelled, payments.refunded
//	  |                      (every replica subscribes to every event: it only watches)
//	  v
//	flowevents handlers      decode each event (transport/event contracts) into a step
//	  |
//	  v
//	flow.Board               the steps of the last -history orders, repeats marked,
//	  |                      handed to each watcher through a buffer of its own
//	  v
//	flowweb stream           GET /events: Server-Sent Events, history first, then live
//	  |
//	  v
//	flowweb page             GET /: one row per order, newest on top; its form places
//	                         demo orders through flowweb's proxy, POST /orders on the
//	                         gateway (-gateway.url), so the page has one origin
//
// Besides, the process serves /healthz, /readyz and /metrics on -http.addr.
package flowsvc
