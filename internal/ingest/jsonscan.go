package ingest

import (
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// A small JSON reader for bulk result lines. encoding/json reads a line
// twice (a validity scan, then reflection into a struct) and read about
// 20 MB/s of orders here; the sync of a large shop spends most of its time
// parsing, so lines are walked once, field by field, with no reflection
// and no allocation except for the strings kept. It accepts exactly JSON
// (RFC 8259): anything else is an error naming the offset.
type jsonReader struct {
	b []byte
	i int
}

var errJSONEnd = errors.New("unexpected end of JSON")

func (r *jsonReader) fail(what string) error {
	if r.i >= len(r.b) {
		return fmt.Errorf("%w (expected %s)", errJSONEnd, what)
	}
	return fmt.Errorf("invalid JSON at offset %d: expected %s, found %q", r.i, what, r.b[r.i])
}

func (r *jsonReader) ws() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

func (r *jsonReader) peek() byte {
	r.ws()
	if r.i < len(r.b) {
		return r.b[r.i]
	}
	return 0
}

// end checks nothing but white space follows the value.
func (r *jsonReader) end() error {
	r.ws()
	if r.i != len(r.b) {
		return fmt.Errorf("invalid JSON at offset %d: unexpected %q after the value", r.i, r.b[r.i])
	}
	return nil
}

// object reads an object, calling field for each member with its raw key
// (valid only during the call); field must consume the value.
func (r *jsonReader) object(field func(key []byte) error) error {
	if r.peek() != '{' {
		return r.fail("an object")
	}
	r.i++
	if r.peek() == '}' {
		r.i++
		return nil
	}
	for {
		if r.peek() != '"' {
			return r.fail("a member name")
		}
		key, escaped, err := r.rawString()
		if err != nil {
			return err
		}
		if escaped {
			s, err := unescape(key)
			if err != nil {
				return err
			}
			key = []byte(s)
		}
		if r.peek() != ':' {
			return r.fail("':'")
		}
		r.i++
		if err := field(key); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.i++
		case '}':
			r.i++
			return nil
		default:
			return r.fail("',' or '}'")
		}
	}
}

// array reads an array, calling elem for each element; elem must consume it.
func (r *jsonReader) array(elem func() error) error {
	if r.peek() != '[' {
		return r.fail("an array")
	}
	r.i++
	if r.peek() == ']' {
		r.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.i++
		case ']':
			r.i++
			return nil
		default:
			return r.fail("',' or ']'")
		}
	}
}

// null consumes a null and reports whether there was one.
func (r *jsonReader) null() (bool, error) {
	if r.peek() != 'n' {
		return false, nil
	}
	if len(r.b)-r.i < 4 || string(r.b[r.i:r.i+4]) != "null" {
		return false, r.fail("null")
	}
	r.i += 4
	return true, nil
}

// rawString reads a string and returns its bytes between the quotes
// (escapes left in place) and whether it holds any escape.
func (r *jsonReader) rawString() ([]byte, bool, error) {
	if r.peek() != '"' {
		return nil, false, r.fail("a string")
	}
	r.i++
	start := r.i
	escaped := false
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			s := r.b[start:r.i]
			r.i++
			return s, escaped, nil
		case c == '\\':
			escaped = true
			r.i += 2
		case c < 0x20:
			return nil, false, r.fail("no control characters in a string")
		default:
			r.i++
		}
	}
	r.i = len(r.b)
	return nil, false, fmt.Errorf("%w (unterminated string)", errJSONEnd)
}

// str reads a string or null ("" for null).
func (r *jsonReader) str() (string, error) {
	b, err := r.strBytes()
	if err != nil || b == nil {
		return "", err
	}
	return string(b), nil
}

// strBytes reads a string or null (nil for null) without allocating when
// it holds no escapes; the bytes are valid until the line is released.
func (r *jsonReader) strBytes() ([]byte, error) {
	if isNull, err := r.null(); isNull || err != nil {
		return nil, err
	}
	raw, escaped, err := r.rawString()
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(raw) {
		// As encoding/json does: each invalid byte becomes U+FFFD, so one
		// bad byte cannot fail a whole import (Postgres refuses it).
		raw = validUTF8(raw)
	}
	if !escaped {
		return raw, nil
	}
	s, err := unescape(raw)
	if err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// boolean reads true, false or null (false).
func (r *jsonReader) boolean() (bool, error) {
	switch r.peek() {
	case 't':
		if len(r.b)-r.i >= 4 && string(r.b[r.i:r.i+4]) == "true" {
			r.i += 4
			return true, nil
		}
	case 'f':
		if len(r.b)-r.i >= 5 && string(r.b[r.i:r.i+5]) == "false" {
			r.i += 5
			return false, nil
		}
	case 'n':
		_, err := r.null()
		return false, err
	}
	return false, r.fail("true or false")
}

// integer reads a JSON integer that fits int64, or null (0).
func (r *jsonReader) integer() (int64, error) {
	if isNull, err := r.null(); isNull || err != nil {
		return 0, err
	}
	start := r.i
	if err := r.number(); err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(string(r.b[start:r.i]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid JSON at offset %d: %q is not an integer", start, r.b[start:r.i])
	}
	return n, nil
}

// number consumes a JSON number.
func (r *jsonReader) number() error {
	r.ws()
	start := r.i
	if r.i < len(r.b) && r.b[r.i] == '-' {
		r.i++
	}
	digits := func() int {
		n := 0
		for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' {
			r.i++
			n++
		}
		return n
	}
	intStart := r.i
	if n := digits(); n == 0 || (n > 1 && r.b[intStart] == '0') {
		r.i = start
		return r.fail("a number")
	}
	if r.i < len(r.b) && r.b[r.i] == '.' {
		r.i++
		if digits() == 0 {
			return r.fail("digits after '.'")
		}
	}
	if r.i < len(r.b) && (r.b[r.i] == 'e' || r.b[r.i] == 'E') {
		r.i++
		if r.i < len(r.b) && (r.b[r.i] == '+' || r.b[r.i] == '-') {
			r.i++
		}
		if digits() == 0 {
			return r.fail("exponent digits")
		}
	}
	return nil
}

// skip consumes any value.
func (r *jsonReader) skip() error {
	switch r.peek() {
	case '{':
		return r.object(func([]byte) error { return r.skip() })
	case '[':
		return r.array(r.skip)
	case '"':
		_, err := r.strBytes()
		return err
	case 't', 'f':
		_, err := r.boolean()
		return err
	case 'n':
		_, err := r.null()
		return err
	default:
		return r.number()
	}
}

// objectOrNull reads an object through field, or a null.
func (r *jsonReader) objectOrNull(field func(key []byte) error) error {
	if isNull, err := r.null(); isNull || err != nil {
		return err
	}
	return r.object(field)
}

// unescape decodes the escapes of a JSON string's contents.
func unescape(raw []byte) (string, error) {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(raw) {
			return "", errors.New("invalid JSON: string ends in a backslash")
		}
		switch raw[i] {
		case '"', '\\', '/':
			out = append(out, raw[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, n, ok := hex4(raw[i+1:])
			if !ok {
				return "", errors.New("invalid JSON: bad \\u escape")
			}
			i += n
			if utf16.IsSurrogate(r) {
				// A surrogate pair is two escapes; a lone half becomes U+FFFD
				// as encoding/json makes it.
				if i+2 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
					if r2, n2, ok := hex4(raw[i+3:]); ok {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							r = dec
							i += 2 + n2
						} else {
							r = utf8.RuneError
						}
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", fmt.Errorf("invalid JSON: unknown escape \\%c", raw[i])
		}
	}
	return string(out), nil
}

func validUTF8(b []byte) []byte {
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return out
}

func hex4(b []byte) (rune, int, bool) {
	if len(b) < 4 {
		return 0, 0, false
	}
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, 0, false
		}
	}
	return r, 4, true
}

// parseTimeBytes reads an ISO 8601 date-time as Shopify writes it
// ("2024-01-05T09:15:00Z", "...+01:00", with or without fractional
// seconds) without allocating; anything else goes through time.Parse.
func parseTimeBytes(field string, b []byte) (time.Time, error) {
	if t, ok := fastRFC3339(b); ok {
		return t, nil
	}
	return parseTime(field, string(b))
}

func fastRFC3339(b []byte) (time.Time, bool) {
	// YYYY-MM-DDTHH:MM:SS then optional .fff, then Z or ±HH:MM.
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != 't') || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := decimal(b[0:4])
	month, ok2 := decimal(b[5:7])
	day, ok3 := decimal(b[8:10])
	hour, ok4 := decimal(b[11:13])
	minute, ok5 := decimal(b[14:16])
	sec, ok6 := decimal(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	nsec, rest, ok := fraction(b[19:])
	if !ok {
		return time.Time{}, false
	}
	offset, ok := zoneOffset(rest)
	if !ok {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), true
}

// decimal reads s as an unsigned decimal number; false when it holds
// anything but digits.
func decimal(s []byte) (int, bool) {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// fraction reads optional fractional seconds (".fff", digits past the
// nanosecond ignored) as nanoseconds, and returns what follows them.
func fraction(rest []byte) (int, []byte, bool) {
	if len(rest) == 0 || rest[0] != '.' {
		return 0, rest, true
	}
	nsec := 0
	j := 1
	scale := 100_000_000
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		if scale > 0 {
			nsec += int(rest[j]-'0') * scale
			scale /= 10
		}
		j++
	}
	if j == 1 {
		return 0, nil, false
	}
	return nsec, rest[j:], true
}

// zoneOffset reads the whole of rest as "Z" or "±HH:MM", in seconds east
// of UTC.
func zoneOffset(rest []byte) (int, bool) {
	switch {
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
		return 0, true
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := decimal(rest[1:3])
		om, ok2 := decimal(rest[4:6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return 0, false
		}
		offset := oh*3600 + om*60
		if rest[0] == '-' {
			offset = -offset
		}
		return offset, true
	default:
		return 0, false
	}
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
