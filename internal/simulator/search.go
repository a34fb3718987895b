package simulator

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// A subset of Shopify's search syntax for connection `query` arguments:
// field:value terms with :> :>= :< :<= comparators, quoted values, trailing
// * for prefix matches, implicit AND, explicit AND/OR, NOT or a leading -,
// and parentheses. Unknown fields match everything, as Shopify ignores them
// with a warning.

type searchKind uint8

const (
	searchText searchKind = iota
	searchList
	searchTime
	searchNum
	searchAmount
	searchBool
)

type searchField struct {
	kind   searchKind
	text   func(i int) string
	list   func(i int) []string
	num    func(i int) int64 // times as unix seconds (0 = null), ids, counts
	amount func(i int) Amount
	flag   func(i int) bool
}

type searchFields struct {
	fields map[string]searchField
	// free text (no field) matches any of these.
	freeText []string
	loc      *time.Location
}

type predicate func(i int) bool

type searchToken struct {
	kind string // "(", ")", "OR", "AND", "NOT", "term"
	neg  bool
	text string
}

func tokenizeSearch(q string) []searchToken {
	var toks []searchToken
	i := 0
	for i < len(q) {
		c := q[i]
		switch c {
		case ' ', '\t', '\n':
			i++
		case '(', ')':
			toks = append(toks, searchToken{kind: string(c)})
			i++
		default:
			start := i
			var b strings.Builder
			for i < len(q) && q[i] != ' ' && q[i] != '\t' && q[i] != '\n' && q[i] != '(' && q[i] != ')' {
				if q[i] == '\'' || q[i] == '"' {
					quote := q[i]
					i++
					for i < len(q) && q[i] != quote {
						if q[i] == '\\' && i+1 < len(q) {
							i++
						}
						b.WriteByte(q[i])
						i++
					}
					i++ // closing quote (or end)
					continue
				}
				b.WriteByte(q[i])
				i++
			}
			word := b.String()
			raw := q[start:min(i, len(q))]
			switch raw {
			case "OR", "AND", "NOT":
				toks = append(toks, searchToken{kind: raw})
				continue
			}
			t := searchToken{kind: "term", text: word}
			if strings.HasPrefix(raw, "-") && len(word) > 1 {
				t.neg = true
				t.text = word[1:]
			}
			toks = append(toks, t)
		}
	}
	return toks
}

// compileSearch turns a query string into a predicate over record indexes.
func compileSearch(q string, sf searchFields) predicate {
	toks := tokenizeSearch(q)
	p := &searchParser{toks: toks, sf: sf}
	pred := p.parseOr()
	if pred == nil {
		return func(int) bool { return true }
	}
	return pred
}

type searchParser struct {
	toks []searchToken
	pos  int
	sf   searchFields
}

func (p *searchParser) peek() *searchToken {
	if p.pos < len(p.toks) {
		return &p.toks[p.pos]
	}
	return nil
}

func (p *searchParser) parseOr() predicate {
	left := p.parseAnd()
	for {
		t := p.peek()
		if t == nil || t.kind != "OR" {
			return left
		}
		p.pos++
		right := p.parseAnd()
		l, r := left, right
		switch {
		case l == nil:
			left = r
		case r == nil:
			left = l
		default:
			left = func(i int) bool { return l(i) || r(i) }
		}
	}
}

func (p *searchParser) parseAnd() predicate {
	var preds []predicate
	for {
		t := p.peek()
		if t == nil || t.kind == "OR" || t.kind == ")" {
			break
		}
		if t.kind == "AND" {
			p.pos++
			continue
		}
		if pr := p.parseUnary(); pr != nil {
			preds = append(preds, pr)
		}
	}
	switch len(preds) {
	case 0:
		return nil
	case 1:
		return preds[0]
	}
	return func(i int) bool {
		for _, pr := range preds {
			if !pr(i) {
				return false
			}
		}
		return true
	}
}

func (p *searchParser) parseUnary() predicate {
	t := p.peek()
	if t == nil {
		return nil
	}
	switch t.kind {
	case "NOT":
		p.pos++
		inner := p.parseUnary()
		if inner == nil {
			return nil
		}
		return func(i int) bool { return !inner(i) }
	case "(":
		p.pos++
		inner := p.parseOr()
		if n := p.peek(); n != nil && n.kind == ")" {
			p.pos++
		}
		return inner
	case ")":
		p.pos++
		return nil
	}
	p.pos++
	pr := p.sf.term(t.text)
	if pr == nil {
		return nil
	}
	if t.neg {
		return func(i int) bool { return !pr(i) }
	}
	return pr
}

// term compiles one field:value term; nil means "matches everything".
func (sf searchFields) term(text string) predicate {
	field, value, hasField := strings.Cut(text, ":")
	if !hasField {
		return sf.freeTextTerm(text)
	}
	op := ""
	for _, candidate := range []string{">=", "<=", ">", "<"} {
		if strings.HasPrefix(value, candidate) {
			op = candidate
			value = value[len(candidate):]
			break
		}
	}
	f, ok := sf.fields[strings.ToLower(field)]
	if !ok {
		return nil
	}
	switch f.kind {
	case searchText:
		return textPredicate(f.text, value)
	case searchList:
		want := strings.ToLower(value)
		return func(i int) bool {
			for _, v := range f.list(i) {
				if strings.ToLower(v) == want {
					return true
				}
			}
			return false
		}
	case searchBool:
		want := strings.EqualFold(value, "true")
		return func(i int) bool { return f.flag(i) == want }
	case searchTime:
		ts, err := parseSearchTime(value, sf.loc)
		if err != nil {
			return func(int) bool { return false }
		}
		return comparePredicate(op, ts, f.num, true)
	case searchNum:
		n, err := parseSearchNum(value)
		if err != nil {
			return func(int) bool { return false }
		}
		return comparePredicate(op, n, f.num, false)
	case searchAmount:
		a, err := ParseAmount(value)
		if err != nil {
			return func(int) bool { return false }
		}
		get := func(i int) int64 { return int64(f.amount(i)) }
		return comparePredicate(op, int64(a), get, false)
	}
	return nil
}

func (sf searchFields) freeTextTerm(text string) predicate {
	if len(sf.freeText) == 0 || text == "" {
		return nil
	}
	var preds []predicate
	for _, name := range sf.freeText {
		if f, ok := sf.fields[name]; ok && f.kind == searchText {
			get := f.text
			want := strings.ToLower(strings.TrimSuffix(text, "*"))
			preds = append(preds, func(i int) bool { return strings.Contains(strings.ToLower(get(i)), want) })
		}
	}
	return func(i int) bool {
		for _, p := range preds {
			if p(i) {
				return true
			}
		}
		return false
	}
}

func textPredicate(get func(int) string, value string) predicate {
	if strings.HasSuffix(value, "*") {
		prefix := strings.ToLower(strings.TrimSuffix(value, "*"))
		return func(i int) bool { return strings.HasPrefix(strings.ToLower(get(i)), prefix) }
	}
	return func(i int) bool { return strings.EqualFold(get(i), value) }
}

func comparePredicate(op string, want int64, get func(int) int64, nullable bool) predicate {
	return func(i int) bool {
		v := get(i)
		if nullable && v == 0 {
			return false
		}
		switch op {
		case ">":
			return v > want
		case ">=":
			return v >= want
		case "<":
			return v < want
		case "<=":
			return v <= want
		}
		return v == want
	}
}

func parseSearchNum(v string) (int64, error) {
	if i := strings.LastIndexByte(v, '/'); i >= 0 && strings.HasPrefix(v, "gid://") {
		v = v[i+1:]
	}
	return strconv.ParseInt(v, 10, 64)
}

// parseSearchTime reads the timestamps apps put in search queries; a bare
// date is midnight in the shop's time zone, as Shopify reads it.
func parseSearchTime(v string, loc *time.Location) (int64, error) {
	if loc == nil {
		loc = time.UTC
	}
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t.Unix(), nil
		}
	}
	if t, err := time.ParseInLocation("2006-01-02", v, loc); err == nil {
		return t.Unix(), nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 && !strings.ContainsFunc(v, unicode.IsLetter) {
		return n, nil
	}
	return 0, fmt.Errorf("bad search time %q", v)
}
