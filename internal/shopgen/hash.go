package shopgen

import "strconv"

// Deterministic choices in the Online Retail shop (costs, vendors,
// marketing labels) hash the record's own key, so they do not depend on
// the order the file is read in or on anything else in it.

// hash64 is FNV-1a over the parts, separated, with a final avalanche so
// that the low bits used for "h % 100" are well mixed.
func hash64(parts ...string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			h ^= uint64(p[i])
			h *= prime
		}
		h ^= 0xff
		h *= prime
	}
	return mix64(h)
}

func hashInt(tag string, n int64) uint64 { return hash64(tag, strconv.FormatInt(n, 10)) }

// mix64 is the SplitMix64 finaliser.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// unitFloat maps a hash to [0, 1).
func unitFloat(h uint64) float64 { return float64(h>>11) / (1 << 53) }
