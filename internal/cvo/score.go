package cvo

import "time"

// CustomerScore is one customer's line in a scoring snapshot: what the
// admin page lists and what write-back turns into tags and metafields.
type CustomerScore struct {
	CustomerID    string
	Group         string // the group's slug, e.g. "soulmates"
	R, F, M       int
	Orders        int
	Revenue       float64
	HistoricalCLV float64
	PredictedCLV  float64
	PAlive        float64
	// POrderWindow is the calibrated chance of at least one order within
	// the shop's prediction window; ChurnRisk is low, medium or high.
	POrderWindow   float64
	ChurnRisk      string
	ExpectedOrders float64
	NextOrderAt    time.Time // zero when no next order is expected
}

// Scoring describes one scoring run of a shop.
type Scoring struct {
	ID         int64
	Shop       string
	Reason     string
	AsOf       time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	State      string // running, succeeded, failed
	Error      string
	Customers  int
}
