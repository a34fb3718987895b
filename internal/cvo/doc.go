// Package cvo holds the domain types of the Customer Value Optimization app:
// shops, customers, orders and the rules that decide which orders count.
// It imports nothing from HTTP, the database or Shopify, so the scoring
// packages and every adapter can share it.
package cvo
