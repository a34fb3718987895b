package postgres

import (
	"strconv"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
)

// The wanted orders' cursor reads only the orders in the table of wanted
// ids: reading every order there would give the same ledger (AddDetail
// skips orders it does not want), only slower, so no ledger comparison
// would notice.
func TestWantedOrdersCursorReadsOnlyTheWanted(t *testing.T) {
	assert.NotEqual(t, ordersCursor.query, wantedOrdersCursor.query)
	assert.Contains(t, wantedOrdersCursor.query, "JOIN wanted_orders w USING (id) WHERE shop = $1")
	assert.Contains(t, wantedLinesCursor.query, "JOIN wanted_orders w ON w.id = l.order_id")
}

// The interner gives back the text it was given, the same string for
// equal bytes while it remembers them, and stops remembering past its
// bound: a column of unique values costs no more than its strings.
func TestTextInternerIsBounded(t *testing.T) {
	texts := newTextInterner()
	buf := make([]byte, 0, 16)
	for i := range maxInterned + 100 {
		buf = strconv.AppendInt(buf[:0], int64(i), 10)
		assert.Equal(t, strconv.Itoa(i), texts.of(buf))
	}
	assert.Len(t, texts.seen, maxInterned)
	first := texts.of([]byte("0"))
	assert.Equal(t, unsafe.StringData(first), unsafe.StringData(texts.of([]byte("0"))), "a remembered text is one string")
	assert.Equal(t, "", texts.of(nil), "NULL reads as empty")
}
