package rescore

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/rfm"
	"github.com/cvo-app/cvo/internal/scoring"
)

// TestScoredRowsAreTheValidScoresInOrder: the rows made on demand are the
// scores with a group, in order, each as the snapshot stores it, and
// none is left out when every score has a group.
func TestScoredRowsAreTheValidScoresInOrder(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	next := time.Date(2026, 3, 29, 0, 0, 0, 0, berlin) // the night clocks change
	score := func(id string, g rfm.Group) scoring.CustomerScore {
		return scoring.CustomerScore{CustomerID: id, Group: g, R: 5, F: 4, M: 3, Orders: 7, Revenue: 70, HistoricalCLV: 21,
			PredictedCLV: 9.5, PAlive: 0.75, ExpectedOrders: 1.25, POrderWindow: 0.5, ChurnRisk: scoring.ChurnLow,
			NextOrder: next.Unix(), HasNextOrder: id == "1"}
	}
	row := func(id string, g rfm.Group) cvo.CustomerScore {
		r := cvo.CustomerScore{CustomerID: id, Group: g.Slug(), R: 5, F: 4, M: 3, Orders: 7, Revenue: 70, HistoricalCLV: 21,
			PredictedCLV: 9.5, PAlive: 0.75, ExpectedOrders: 1.25, POrderWindow: 0.5, ChurnRisk: "low"}
		if id == "1" {
			r.NextOrderAt = next
		}
		return r
	}
	for _, tc := range []struct {
		name   string
		groups []rfm.Group
		want   []string
	}{
		{"all with a group", []rfm.Group{rfm.Soulmates, rfm.BreakUp, rfm.Soulmates}, []string{"1", "2", "3"}},
		{"some without", []rfm.Group{0, rfm.Soulmates, 0, rfm.BreakUp, 99}, []string{"2", "4"}},
		{"none with a group", []rfm.Group{0, 99}, nil},
		{"none at all", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var customers []scoring.CustomerScore
			var want []cvo.CustomerScore
			for i, g := range tc.groups {
				id := string(rune('1' + i))
				customers = append(customers, score(id, g))
				if g.Valid() {
					want = append(want, row(id, g))
				}
			}
			rows := newScoredRows(customers, berlin)
			require.Equal(t, len(want), rows.Len())
			var ids []string
			for i := range rows.Len() {
				got := rows.Row(i)
				ids = append(ids, got.CustomerID)
				assert.Equal(t, want[i].NextOrderAt.String(), got.NextOrderAt.String(), "the next order's date in the shop's zone")
				got.NextOrderAt, want[i].NextOrderAt = time.Time{}, time.Time{}
				assert.Equal(t, want[i], got)
			}
			assert.Equal(t, tc.want, ids)
		})
	}
}
