package simulator

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"
)

// listSource describes a store collection for cursor pagination.
type listSource struct {
	name  string // "customers", "orders", "products"; keys the sort cache
	n     int
	id    func(i int) int64
	live  func(i int) bool
	match predicate // nil = everything
	// sort key: nil = id order (the slice order).
	key     func(i int) int64
	keyName string
	keyTime bool // key is unix seconds, shown as a timestamp in cursors
	version uint64
	cache   *sortCache
}

type sortCache struct {
	mu sync.Mutex
	m  map[sortCacheKey][]int32
}

func (c *sortCache) perm(src listSource) []int32 {
	k := sortCacheKey{collection: src.name, key: src.keyName, version: src.version}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.m[k]; ok {
		return p
	}
	p := make([]int32, src.n)
	for i := range p {
		p[i] = int32(i)
	}
	slices.SortStableFunc(p, func(a, b int32) int {
		if c := cmp.Compare(src.key(int(a)), src.key(int(b))); c != 0 {
			return c
		}
		return cmp.Compare(src.id(int(a)), src.id(int(b)))
	})
	// Older versions of the same sort are stale now.
	for old := range c.m {
		if old.collection == src.name && old.key == src.keyName {
			delete(c.m, old)
		}
	}
	c.m[k] = p
	return p
}

type cursorData struct {
	LastID    int64  `json:"last_id"`
	LastValue string `json:"last_value"`
}

const cursorTimeLayout = "2006-01-02 15:04:05.000000"

func (src listSource) cursorFor(i int) string {
	cd := cursorData{LastID: src.id(i)}
	switch {
	case src.key == nil:
		cd.LastValue = strconv.FormatInt(cd.LastID, 10)
	case src.keyTime:
		cd.LastValue = time.Unix(src.key(i), 0).UTC().Format(cursorTimeLayout)
	default:
		cd.LastValue = strconv.FormatInt(src.key(i), 10)
	}
	raw, _ := json.Marshal(cd)
	return base64.StdEncoding.EncodeToString(raw)
}

// decodeCursor returns the (key, id) a cursor points after or before.
func (src listSource) decodeCursor(c string) (int64, int64, bool) {
	raw, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		raw, err = base64.RawURLEncoding.DecodeString(c)
		if err != nil {
			return 0, 0, false
		}
	}
	var cd cursorData
	if err := json.Unmarshal(raw, &cd); err != nil {
		return 0, 0, false
	}
	switch {
	case src.key == nil:
		return cd.LastID, cd.LastID, true
	case src.keyTime:
		t, err := time.Parse(cursorTimeLayout, cd.LastValue)
		if err != nil {
			return 0, 0, false
		}
		return t.Unix(), cd.LastID, true
	default:
		v, err := strconv.ParseInt(cd.LastValue, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		return v, cd.LastID, true
	}
}

var errInvalidCursor = userFacingError{msg: "Invalid cursor for current pagination sort.", ext: ext("code", "BAD_REQUEST")}

// paginate returns one page of a collection for Relay connection
// arguments (first/after or last/before, reverse).
func paginate(src listSource, args map[string]any) (*page, []int, error) {
	var perm []int32
	if src.key != nil {
		perm = src.cache.perm(src)
	}
	reverse, _ := args["reverse"].(bool)
	n := src.n
	phys := func(k int) int {
		if reverse {
			k = n - 1 - k
		}
		if perm != nil {
			return int(perm[k])
		}
		return k
	}
	keyOf := func(i int) int64 {
		if src.key == nil {
			return src.id(i)
		}
		return src.key(i)
	}
	// cmpLogical orders (key, id) pairs in the page direction.
	cmpLogical := func(k int, key, id int64) int {
		i := phys(k)
		c := cmp.Compare(keyOf(i), key)
		if c == 0 {
			c = cmp.Compare(src.id(i), id)
		}
		if reverse {
			c = -c
		}
		return c
	}
	ok := func(k int) bool {
		i := phys(k)
		return src.live(i) && (src.match == nil || src.match(i))
	}
	lo, hi := 0, n
	after, hasAfter := args["after"].(string)
	before, hasBefore := args["before"].(string)
	if hasAfter {
		key, id, valid := src.decodeCursor(after)
		if !valid {
			return nil, nil, errInvalidCursor
		}
		lo = sort.Search(n, func(k int) bool { return cmpLogical(k, key, id) > 0 })
	}
	if hasBefore {
		key, id, valid := src.decodeCursor(before)
		if !valid {
			return nil, nil, errInvalidCursor
		}
		hi = sort.Search(n, func(k int) bool { return cmpLogical(k, key, id) >= 0 })
	}
	exists := func(from, to int) bool {
		for k := from; k < to; k++ {
			if ok(k) {
				return true
			}
		}
		return false
	}
	var ks []int
	pg := &page{}
	if first, hasFirst := args["first"].(int); hasFirst || args["last"] == nil {
		for k := lo; k < hi && len(ks) <= first; k++ {
			if ok(k) {
				ks = append(ks, k)
			}
		}
		if len(ks) > first {
			ks = ks[:first]
			pg.hasNext = true
		}
		pg.hasPrev = hasAfter && exists(0, lo)
	} else {
		last := args["last"].(int)
		for k := hi - 1; k >= lo && len(ks) <= last; k-- {
			if ok(k) {
				ks = append(ks, k)
			}
		}
		if len(ks) > last {
			ks = ks[:last]
			pg.hasPrev = true
		}
		slices.Reverse(ks)
		pg.hasNext = hasBefore && exists(hi, n)
	}
	idx := make([]int, len(ks))
	pg.cursors = make([]string, len(ks))
	for j, k := range ks {
		idx[j] = phys(k)
		pg.cursors[j] = src.cursorFor(idx[j])
	}
	return pg, idx, nil
}
