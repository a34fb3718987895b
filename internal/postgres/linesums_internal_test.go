package postgres

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The wanted orders' cursor is the orders' cursor narrowed to the table of
// wanted ids: reading every wide order there would give the same ledger
// (AddDetail skips orders it does not want), only slower, so no ledger
// comparison would notice.
func TestWantedOrdersCursorReadsOnlyTheWanted(t *testing.T) {
	assert.NotEqual(t, ordersCursor.query, wantedOrdersCursor.query)
	assert.Contains(t, wantedOrdersCursor.query, "JOIN wanted_orders w USING (id) WHERE shop = $1")
	assert.Contains(t, wantedLinesCursor.query, "JOIN wanted_orders w ON w.id = l.order_id")
}
