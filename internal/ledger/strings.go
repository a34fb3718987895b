package ledger

import "strings"

// blockSize is how many bytes of identifiers share one allocation. A
// million 20-byte identifiers then cost 20 MB in 20 blocks, instead of a
// million small allocations the garbage collector has to trace.
const blockSize = 1 << 20

// StringBlocks copies strings into large blocks that never move, so that
// the copies can be kept (as map keys, say) without one allocation each.
// The zero value is ready to use.
type StringBlocks struct {
	cur strings.Builder
}

// Keep returns a copy of s that does not share the caller's memory (a CSV
// reader's reused record, say).
func (b *StringBlocks) Keep(s string) string {
	if len(s) == 0 {
		return ""
	}
	if len(s) > blockSize/16 {
		return strings.Clone(s)
	}
	if b.cur.Cap()-b.cur.Len() < len(s) {
		// A new block; the strings handed out keep the old one alive,
		// and it is never written again, so they stay valid.
		b.cur = strings.Builder{}
		b.cur.Grow(blockSize)
	}
	start := b.cur.Len()
	b.cur.WriteString(s)
	// String shares the builder's memory; the builder only appends into
	// capacity it already has, so the bytes before start never change.
	return b.cur.String()[start:]
}

// numbering gives distinct strings dense numbers in order of first sight.
type numbering struct {
	blocks StringBlocks
	index  map[string]int32
	names  []string
}

func newNumbering(sizeHint int) *numbering {
	return &numbering{index: make(map[string]int32, sizeHint), names: make([]string, 0, sizeHint)}
}

// number returns s's number, giving it the next one when it is new.
func (n *numbering) number(s string) int32 {
	if k, ok := n.index[s]; ok {
		return k
	}
	s = n.blocks.Keep(s)
	k := int32(len(n.names))
	n.index[s] = k
	n.names = append(n.names, s)
	return k
}

// Interner shares one copy of each distinct string: a product title
// repeated on a million lines, or a city shared by thousands of customers,
// is stored once. The zero value is ready to use.
type Interner struct {
	blocks StringBlocks
	seen   map[string]string
}

// Intern returns the shared copy of s.
func (in *Interner) Intern(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := in.seen[s]; ok {
		return v
	}
	if in.seen == nil {
		in.seen = map[string]string{}
	}
	v := in.blocks.Keep(s)
	in.seen[v] = v
	return v
}
