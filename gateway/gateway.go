// Package gateway is the public face of the order system: the REST API of
// the original NestJS system on port 7000, with validation, real status
// codes and Swagger. It owns no data: it checks each request, calls
// ordersvc's internal API, and maps the answer to the public shapes.
//
//	@title			Orders API
//	@version		1.0
//	@description	Create orders, follow their payment, cancel or confirm them. Payments are settled asynchronously: a new order is Processing/Pending and moves to Success/Paid or Failed/Declined shortly after.
//	@BasePath		/
//	@accept			json
//	@produce		json
//
//	@securityDefinitions.apikey	BearerAuth
//	@in							header
//	@name						Authorization
//	@description				"Bearer <JWT>" when the gateway has sign-in on (-auth.hs256.secret or -auth.jwks.url); the token's sub is the userId the request acts for.
package gateway
