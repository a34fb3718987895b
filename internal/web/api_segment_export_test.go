package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
	"github.com/cvo-app/cvo/internal/scoring"
)

// A group's export larger than the pages it is read in holds each of the
// group's customers once, in the list's order, however ties in predicted
// value fall across the pages.
func TestSegmentExportReadsEveryCustomerOnce(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	srv := pagesServer(t, db)
	snaps := postgres.NewScoringStore(db)
	shop := fmt.Sprintf("x%d.myshopify.com", time.Now().UnixNano())

	const lovers = 12_001 // more than two pages of the export
	var scores []cvo.CustomerScore
	for i := range lovers + 300 {
		group := "lovers"
		if i >= lovers {
			group = "soulmates"
		}
		// Eleven values only: every page boundary falls inside a tie.
		scores = append(scores, cvo.CustomerScore{CustomerID: strconv.Itoa(i + 1), Group: group, R: 3, F: 3, M: 3, Orders: 1,
			PredictedCLV: float64(i % 11)})
	}
	id, err := snaps.Begin(ctx, shop, "sync", time.Now())
	require.NoError(t, err)
	require.NoError(t, snaps.Finish(ctx, shop, id, scores, &scoring.Aggregates{Result: &scoring.Result{}}))

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/segments/lovers/export.csv", nil)
	req.Header.Set("Authorization", "Bearer "+sessionToken(t, shop))
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	records, err := csv.NewReader(res.Body).ReadAll()
	require.NoError(t, err)
	require.Len(t, records, lovers+1, "a header and every customer of the group")
	seen := map[string]bool{}
	prevValue, prevID := 1e18, int64(0)
	for _, r := range records[1:] {
		assert.Equal(t, "lovers", r[3])
		assert.False(t, seen[r[0]], "customer %s twice", r[0])
		seen[r[0]] = true
		value, err := strconv.ParseFloat(r[10], 64)
		require.NoError(t, err)
		id, err := strconv.ParseInt(r[0], 10, 64)
		require.NoError(t, err)
		if value == prevValue {
			assert.Greater(t, id, prevID, "ties by customer id")
		} else {
			assert.Less(t, value, prevValue, "by predicted value, highest first")
		}
		prevValue, prevID = value, id
	}
}
