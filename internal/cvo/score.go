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

// CustomerScores are per-customer rows held as a slice, read a row at a
// time (Len, Row) by the snapshot's writer, which a scorer may also feed
// from rows it makes on demand instead of holding them twice.
type CustomerScores []CustomerScore

// Len is the number of rows.
func (s CustomerScores) Len() int { return len(s) }

// Row is row i.
func (s CustomerScores) Row(i int) CustomerScore { return s[i] }

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
