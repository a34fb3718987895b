package activation

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/rfm"
)

// Score is what a write-back needs of one customer's score: 56 bytes where
// a cvo.CustomerScore takes about 170, so the write-back of a
// million-customer shop holds its scores in 53 MiB.
type Score struct {
	CustomerID    int64
	HistoricalCLV float64
	PredictedCLV  float64
	PAlive        float64
	POrderWindow  float64
	// nextOrder is the expected next order's calendar date as days since
	// 1970-01-01, noNextOrder when none is expected.
	nextOrder int32
	group     rfm.Group
	r, f, m   uint8
	churn     churnRisk
	tier      tierIndex
}

const noNextOrder = math.MinInt32

// churnRisk is cvo.CustomerScore.ChurnRisk: none for scorings from before
// the window prediction.
type churnRisk uint8

const (
	churnNone churnRisk = iota
	churnLow
	churnMedium
	churnHigh
)

var churnNames = [...]string{churnNone: "", churnLow: "low", churnMedium: "medium", churnHigh: ChurnRiskHigh}

// tierIndex is a ValueTier, set by Apply from the whole population.
type tierIndex uint8

const (
	tierNone tierIndex = iota
	tierLow
	tierMedium
	tierHigh
)

var tierNames = [...]ValueTier{tierNone: "", tierLow: TierLow, tierMedium: TierMedium, tierHigh: TierHigh}

// NewScore keeps what the write-back needs of sc, checking that it names a
// Shopify customer, a known group and a known churn risk.
func NewScore(sc cvo.CustomerScore) (Score, error) {
	id, err := strconv.ParseInt(sc.CustomerID, 10, 64)
	if err != nil || id <= 0 {
		return Score{}, fmt.Errorf("customer id %q is not a Shopify customer id", sc.CustomerID)
	}
	out := Score{CustomerID: id, HistoricalCLV: sc.HistoricalCLV, PredictedCLV: sc.PredictedCLV, PAlive: sc.PAlive,
		POrderWindow: sc.POrderWindow, nextOrder: noNextOrder, group: rfm.NoGroup}
	if sc.Group != "" {
		if out.group, err = rfm.ParseGroup(sc.Group); err != nil {
			return Score{}, fmt.Errorf("customer %d: %w", id, err)
		}
	}
	for _, v := range []int{sc.R, sc.F, sc.M} {
		if v < 0 || v > math.MaxUint8 {
			return Score{}, fmt.Errorf("customer %d: RFM score %d out of range", id, v)
		}
	}
	out.r, out.f, out.m = uint8(sc.R), uint8(sc.F), uint8(sc.M)
	c := slices.Index(churnNames[:], sc.ChurnRisk)
	if c < 0 {
		return Score{}, fmt.Errorf("customer %d: churn risk %q is not low, medium or high", id, sc.ChurnRisk)
	}
	out.churn = churnRisk(c)
	if !sc.NextOrderAt.IsZero() {
		// The date as the score's own clock reads it, which is what a
		// date metafield holds.
		y, mo, d := sc.NextOrderAt.Date()
		days := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
		if days <= noNextOrder || days > math.MaxInt32 {
			return Score{}, fmt.Errorf("customer %d: next order date %v out of range", id, sc.NextOrderAt)
		}
		out.nextOrder = int32(days)
	}
	return out, nil
}

// Scores converts a whole scoring with NewScore.
func Scores(in []cvo.CustomerScore) ([]Score, error) {
	out := make([]Score, len(in))
	for i, sc := range in {
		var err error
		if out[i], err = NewScore(sc); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Group is the customer's RFM group (rfm.NoGroup when unscored).
func (s Score) Group() rfm.Group { return s.group }

// ChurnRisk is low, medium, high, or "" for scorings without it.
func (s Score) ChurnRisk() string { return churnNames[s.churn] }

// NextOrderDate is the expected next order's date as a date metafield
// holds it, "" when none is expected.
func (s Score) NextOrderDate() string {
	if s.nextOrder == noNextOrder {
		return ""
	}
	return time.Unix(int64(s.nextOrder)*86400, 0).UTC().Format(time.DateOnly)
}

// predictedCLV is the value tiers are cut by: a missing prediction counts
// as nothing.
func (s Score) predictedCLV() float64 {
	if math.IsNaN(s.PredictedCLV) {
		return 0
	}
	return s.PredictedCLV
}

// setValueTiers gives each score its tertile of predicted CLV (see
// ValueTiers).
func setValueTiers(scores []Score) {
	vals := make([]float64, len(scores))
	for i := range scores {
		vals[i] = scores[i].predictedCLV()
	}
	q1, q2, ok := tierCuts(vals)
	if !ok {
		return
	}
	for i := range scores {
		scores[i].tier = tierOf(scores[i].predictedCLV(), q1, q2)
	}
}

// tierCuts are the values at the end of the first and second thirds of
// vals, which it sorts.
func tierCuts(vals []float64) (q1, q2 float64, ok bool) {
	n := len(vals)
	if n == 0 {
		return 0, 0, false
	}
	slices.Sort(vals)
	return vals[(n+2)/3-1], vals[(2*n+2)/3-1], true
}

// tierOf is v's tier given the cuts: ties lean low.
func tierOf(v, q1, q2 float64) tierIndex {
	switch {
	case v <= q1:
		return tierLow
	case v <= q2:
		return tierMedium
	}
	return tierHigh
}

// sortScores orders scores by customer id, refusing a customer scored
// twice.
func sortScores(scores []Score) error {
	slices.SortFunc(scores, func(a, b Score) int { return cmp.Compare(a.CustomerID, b.CustomerID) })
	for i := 1; i < len(scores); i++ {
		if scores[i].CustomerID == scores[i-1].CustomerID {
			return fmt.Errorf("customer %d is scored twice", scores[i].CustomerID)
		}
	}
	return nil
}
