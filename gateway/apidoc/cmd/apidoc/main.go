// Command apidoc writes the gateway's OpenAPI 3 document from its Swagger
// 2.0 one: apidoc IN OUT (make swag runs it after swag).
package main

import (
	"fmt"
	"os"

	"github.com/orderflow/orderflow/gateway/apidoc"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: apidoc swagger.json openapi.json")
		os.Exit(2)
	}
	in, err := os.ReadFile(os.Args[1])
	if err == nil {
		var out []byte
		if out, err = apidoc.Convert(in); err == nil {
			err = os.WriteFile(os.Args[2], out, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "apidoc:", err)
		os.Exit(1)
	}
}
