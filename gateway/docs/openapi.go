package docs

import _ "embed"

// OpenAPI3 is the OpenAPI 3 document of the public API, made from
// swagger.json by package apidoc (make swag).
//
//go:embed openapi.json
var OpenAPI3 []byte
