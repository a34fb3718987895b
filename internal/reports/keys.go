package reports

import (
	"math/bits"
	"slices"
)

// keyed is a purchase (or customer record) by customer key. pos < 0
// marks an entry to leave out.
type keyed struct {
	k1, k2 uint64
	pos    int32
}

// compareIDs orders by customer key only.
func compareIDs(a, b keyed) int {
	switch {
	case a.k1 != b.k1:
		if a.k1 < b.k1 {
			return -1
		}
		return 1
	case a.k2 != b.k2:
		if a.k2 < b.k2 {
			return -1
		}
		return 1
	}
	return 0
}

// compareKeys orders by customer key, then input position.
func compareKeys(a, b keyed) int {
	if c := compareIDs(a, b); c != 0 {
		return c
	}
	switch {
	case a.pos != b.pos:
		if a.pos < b.pos {
			return -1
		}
		return 1
	}
	return 0
}

// bucketSortable is an entry of bucketSort: sorted by a 64-bit hash key
// first, and possibly marked to be left out.
type bucketSortable interface {
	bucketKey() uint64
	skip() bool
}

func (k keyed) bucketKey() uint64 { return k.k1 }
func (k keyed) skip() bool        { return k.pos < 0 }

// bucketSort sorts in place and returns the entries not skipped, sorted
// by cmp, whose first criterion must be bucketKey. It is an in-place
// radix step (American flag sort) on the key's top bits into at most 1024
// buckets, skipped entries going to a final bucket that is cut off,
// followed by a sort of each bucket while it sits in cache. Working in
// place saves a second copy of what can be hundreds of megabytes, and at
// most 1024 buckets keep the permutation's writes within the TLB.
func bucketSort[T bucketSortable](in []T, cmp func(a, b T) int) []T {
	n := 0
	for i := range in {
		if !in[i].skip() {
			n++
		}
	}
	bucketBits := min(10, max(0, bits.Len(uint(n))-10))
	shift := uint(64 - bucketBits)
	buckets := 1 << bucketBits
	bucketOf := func(e *T) int {
		if (*e).skip() {
			return buckets
		}
		return int((*e).bucketKey() >> shift)
	}
	// starts[b]..starts[b+1] is bucket b; bucket `buckets` holds skips.
	starts := make([]int, buckets+2)
	for i := range in {
		starts[bucketOf(&in[i])+1]++
	}
	for b := 1; b < len(starts); b++ {
		starts[b] += starts[b-1]
	}
	next := slices.Clone(starts[:buckets+1])
	for b := range buckets + 1 {
		for next[b] < starts[b+1] {
			// Move the entry at next[b] to its bucket until one that
			// belongs here arrives.
			target := bucketOf(&in[next[b]])
			if target == b {
				next[b]++
				continue
			}
			in[next[b]], in[next[target]] = in[next[target]], in[next[b]]
			next[target]++
		}
	}
	out := in[:n]
	inChunks(buckets, 64, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			slices.SortFunc(out[starts[b]:starts[b+1]], cmp)
		}
	})
	return out
}

// idKeys derives the 128-bit key of a customer ID from two independent
// 64-bit hashes. The key stands for the ID: two different IDs would have
// to collide in all 128 bits to be merged, which for a million customers
// has a probability around 10⁻²⁷. The hashes are fixed (not seeded per
// process) so that the dataset's customer order is reproducible.
var idKeys = func(id string) (uint64, uint64) {
	return stringHash(id, 0x9e3779b97f4a7c15), stringHash(id, 0xc2b2ae3d27d4eb4f)
}

// stringHash mixes the string eight bytes at a time with multiply-xorshift
// steps and finishes with the MurmurHash3 64-bit avalanche.
func stringHash(s string, seed uint64) uint64 {
	const m = 0xff51afd7ed558ccd
	h := seed ^ uint64(len(s))*m
	for len(s) >= 8 {
		v := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		h = (h ^ mix(v)) * m
		h ^= h >> 32
		s = s[8:]
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		v |= uint64(s[i]) << (8 * i)
	}
	h = (h ^ mix(v^uint64(len(s))<<56)) * m
	return fmix(h)
}

func mix(v uint64) uint64 {
	v *= 0x87c37b91114253d5
	v = bits.RotateLeft64(v, 31)
	return v * 0x4cf5852119b5cb79
}

func fmix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}
