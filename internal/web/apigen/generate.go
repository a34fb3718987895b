// Package apigen holds the admin API's Go types and Echo server interface,
// generated from internal/web/openapi.yaml (`make generate`): the document
// is the contract, so a field renamed there breaks the build here.
package apigen

//go:generate go tool oapi-codegen -config config.yaml ../openapi.yaml
