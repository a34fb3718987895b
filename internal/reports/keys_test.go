package reports

import (
	"fmt"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBucketSort(t *testing.T) {
	in := []keyed{{3, 1, 0}, {1, 9, 1}, {0, 0, -1}, {3, 1, 3}, {1, 2, 4}, {3, 0, 5}}
	assert.Equal(t, []keyed{{1, 2, 4}, {1, 9, 1}, {3, 0, 5}, {3, 1, 0}, {3, 1, 3}}, bucketSort(in, compareKeys))
	assert.Empty(t, bucketSort([]keyed(nil), compareKeys))

	// Enough entries for many buckets, every seventh one skipped.
	var big []keyed
	kept := 0
	for i := range 50_000 {
		k1, k2 := idKeys(fmt.Sprint(i % 7000))
		pos := int32(i)
		if i%7 == 0 {
			pos = -1
		} else {
			kept++
		}
		big = append(big, keyed{k1, k2, pos})
	}
	out := bucketSort(big, compareKeys)
	require.Len(t, out, kept)
	for i := 1; i < len(out); i++ {
		require.Negative(t, compareKeys(out[i-1], out[i]))
	}
}

func TestIDKeysSpreadShopifyIDs(t *testing.T) {
	seen := make(map[uint64]bool, 200_000)
	for i := range 200_000 {
		k1, k2 := idKeys(fmt.Sprintf("gid://shopify/Customer/%d", 7000000000000+i))
		require.NotEqual(t, k1, k2)
		require.False(t, seen[k1], "64-bit collision at %d", i)
		seen[k1] = true
	}
	a1, a2 := idKeys("")
	b1, b2 := idKeys("\x00")
	assert.NotEqual(t, [2]uint64{a1, a2}, [2]uint64{b1, b2}, "length is part of the hash")
	c1, _ := idKeys("12345678")
	d1, _ := idKeys("123456780")
	assert.NotEqual(t, c1, d1)
}

// TestDatasetSurvivesKeyCollisions forces every customer onto one k1, so
// only k2 tells them apart.
func TestDatasetSurvivesKeyCollisions(t *testing.T) {
	saved := idKeys
	t.Cleanup(func() { idKeys = saved })
	idKeys = func(id string) (uint64, uint64) { return 42, stringHash(id, 7) }

	customers, orders := smallShop()
	d := NewDataset(customers, orders, Options{AsOf: asOf, RepeatWindowDays: 60})
	assert.ElementsMatch(t, []string{"A", "B", "C", "D", "E"}, d.ids)
	in := d.RFMCustomers()
	assert.EqualValues(t, 3, in[indexOf(d, "A")].Purchases)
	assert.Equal(t, 220.0, in[indexOf(d, "A")].Revenue)
	assert.Equal(t, "RO", d.countries.keys[d.country[indexOf(d, "B")]])
	assert.Equal(t, 0.4, d.Retention().RetentionRate)
}

func TestPairsMulti(t *testing.T) {
	var p pairs
	p.add(2, 7)
	p.add(0, 1)
	p.add(2, 7) // the same product twice in one order
	p.add(2, 3)
	p.add(0, 1)
	m := p.multi(4)
	assert.Equal(t, []int32{1}, m.of(0))
	assert.Empty(t, m.of(1))
	assert.Equal(t, []int32{7, 3}, m.of(2))
	assert.Empty(t, m.of(3))
	assert.Equal(t, []int32{0, 1, 1, 3, 3}, m.start)

	s := single([]int32{4, -1, 2})
	assert.Equal(t, []int32{4}, s.of(0))
	assert.Empty(t, s.of(1))
	assert.Equal(t, []int32{2}, s.of(2))
}

// TestPurchaseStaysSmall holds the purchase record, of which a
// million-customer shop lays out five million, to its measured size: a
// field added costs the scoring's peak 8 bytes a purchase.
func TestPurchaseStaysSmall(t *testing.T) {
	assert.Equal(t, uintptr(32), unsafe.Sizeof(Purchase{}))
}
