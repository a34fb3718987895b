package reports

import (
	"slices"
)

// dict interns strings to dense ids so hot loops index slices instead of
// hashing strings.
type dict struct {
	index  map[string]int32
	keys   []string
	labels []string
}

const noneKey = "(none)"

func newDict() *dict { return &dict{index: map[string]int32{}} }

func (d *dict) id(key, label string) int32 {
	if id, ok := d.index[key]; ok {
		return id
	}
	return d.add(key, label)
}

func (d *dict) add(key, label string) int32 {
	id := int32(len(d.keys))
	d.index[key] = id
	d.keys = append(d.keys, key)
	d.labels = append(d.labels, label)
	return id
}

// idOrNone files empty values under "(none)": in acquisition reports
// "no campaign" is a segment of its own.
func (d *dict) idOrNone(key string) int32 {
	if key == "" {
		return d.id(noneKey, noneKey)
	}
	return d.id(key, key)
}

// idOrUnknown returns -1 for empty values, which are left out.
func (d *dict) idOrUnknown(key, label string) int32 {
	if key == "" {
		return -1
	}
	return d.id(key, label)
}

func (d *dict) len() int { return len(d.keys) }

// multi maps each customer to zero or more ids, in compressed rows:
// customer c has ids[start[c]:start[c+1]], or, for a column of one id a
// customer, one[c] (none when -1).
type multi struct {
	start []int32
	ids   []int32
	one   []int32
}

// pairs collects (customer, id) in any order; multi turns them into rows
// with a counting sort, dropping repeated ids within a customer.
type pairs struct {
	customers []int32
	ids       []int32
}

// grow makes room for n more pairs.
func (p *pairs) grow(n int) {
	p.customers = slices.Grow(p.customers, n)
	p.ids = slices.Grow(p.ids, n)
}

func (p *pairs) add(c, id int32) {
	p.customers = append(p.customers, c)
	p.ids = append(p.ids, id)
}

func (p *pairs) multi(n int) multi {
	m := multi{start: make([]int32, n+1), ids: make([]int32, len(p.ids))}
	for _, c := range p.customers {
		m.start[c+1]++
	}
	for c := range n {
		m.start[c+1] += m.start[c]
	}
	fill := make([]int32, n)
	for i, c := range p.customers {
		row := m.ids[m.start[c] : m.start[c]+fill[c]]
		if slices.Contains(row, p.ids[i]) {
			continue
		}
		m.ids[m.start[c]+fill[c]] = p.ids[i]
		fill[c]++
	}
	// Close the gaps left by dropped duplicates.
	w := int32(0)
	for c := range n {
		lo := m.start[c]
		m.start[c] = w
		w += int32(copy(m.ids[w:], m.ids[lo:lo+fill[c]]))
	}
	m.start[n] = w
	m.ids = m.ids[:w]
	return m
}

func (m *multi) of(c int) []int32 {
	if m.one != nil {
		if m.one[c] < 0 {
			return nil
		}
		return m.one[c : c+1]
	}
	return m.ids[m.start[c]:m.start[c+1]]
}

// single wraps a one-id-per-customer column (-1 = none) as a multi,
// sharing it (8 bytes a customer less than rows would take): the column
// must not change afterwards.
func single(col []int32) multi {
	if col == nil {
		col = []int32{}
	}
	return multi{one: col}
}
