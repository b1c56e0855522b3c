package host

import (
	"bytes"
	_ "embed"
	"net/http"
)

// openAPI is the server's HTTP contract (OpenAPI 3.1): every route, its
// request and response shapes, its errors and examples. The end-to-end
// tests validate every request and response they make against it, so it
// cannot drift from the code.
//
//go:embed openapi.json
var openAPI []byte

// OpenAPIPath is where the server serves its contract.
const OpenAPIPath = "/openapi.json"

// OpenAPI returns the contract document (JSON).
func OpenAPI() []byte { return bytes.Clone(openAPI) }

func newOpenAPIRoutes() []Route {
	return []Route{{"GET " + OpenAPIPath, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPI)
	})}}
}
