package ingest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseGID reads the numeric id of "gid://shopify/{kind}/{id}" (a query
// string after the id, which Shopify adds to some GIDs, is ignored).
func parseGID(gid, kind string) (int64, error) {
	rest, ok := strings.CutPrefix(gid, "gid://shopify/")
	if !ok {
		return 0, fmt.Errorf("id %q is not a Shopify GID", gid)
	}
	k, num, ok := strings.Cut(rest, "/")
	if !ok || k != kind {
		return 0, fmt.Errorf("id %q is not a %s", gid, kind)
	}
	if i := strings.IndexByte(num, '?'); i >= 0 {
		num = num[:i]
	}
	id, err := strconv.ParseInt(num, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("id %q has no valid number", gid)
	}
	return id, nil
}

// gidKind returns the resource type named in a GID ("Order", "LineItem").
func gidKind(gid string) string {
	rest, ok := strings.CutPrefix(gid, "gid://shopify/")
	if !ok {
		return ""
	}
	k, _, _ := strings.Cut(rest, "/")
	return k
}

// parseTime reads an ISO 8601 timestamp as Shopify writes it.
func parseTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q is not an ISO 8601 time", field, s)
	}
	return t.UTC(), nil
}

// optionalTime parses a timestamp that may be null.
func optionalTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return parseTime(field, s)
}

// checkDecimal accepts Shopify's Decimal and Money strings ("12.5",
// "-0.0125", "403"): the database casts them to numeric(18,4), so anything
// else, or more precision than that keeps, is refused here with a clear
// error rather than failing a whole merge later.
func checkDecimal(field, s string) error {
	if s == "" {
		return fmt.Errorf("%s is empty", field)
	}
	digits, frac := 0, -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if frac >= 0 {
				frac++
			} else {
				digits++
			}
		case c == '.' && frac < 0:
			frac = 0
		case (c == '-' || c == '+') && i == 0:
		default:
			return fmt.Errorf("%s %q is not a decimal amount", field, s)
		}
	}
	if digits == 0 || digits > 14 || frac == 0 || frac > 4 {
		return fmt.Errorf("%s %q is not a decimal amount with at most 14 integer and 4 decimal digits", field, s)
	}
	return nil
}

// optionalDecimal checks an amount that may be absent.
func optionalDecimal(field, s string) error {
	if s == "" {
		return nil
	}
	return checkDecimal(field, s)
}

// decimalSum adds decimal amounts exactly, in ten-thousandths.
type decimalSum struct {
	v int64
	n int
}

func (s *decimalSum) add(field, d string) error {
	x, err := tenThousandths(field, d)
	if err != nil {
		return err
	}
	s.v += x
	s.n++
	return nil
}

func (s *decimalSum) addOptional(field, d string) error {
	if d == "" {
		return nil
	}
	return s.add(field, d)
}

func (s *decimalSum) subOptional(field, d string) error {
	if d == "" {
		return nil
	}
	x, err := tenThousandths(field, d)
	if err != nil {
		return err
	}
	s.v -= x
	s.n++
	return nil
}

// String formats the sum as a decimal with up to four places ("12.5").
func (s decimalSum) String() string {
	v := s.v
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	frac := strings.TrimRight(fmt.Sprintf("%04d", v%10000), "0")
	if frac == "" {
		frac = "0"
	}
	return sign + strconv.FormatInt(v/10000, 10) + "." + frac
}

func tenThousandths(field, d string) (int64, error) {
	if err := checkDecimal(field, d); err != nil {
		return 0, err
	}
	neg := false
	switch d[0] {
	case '-':
		neg, d = true, d[1:]
	case '+':
		d = d[1:]
	}
	whole, frac, _ := strings.Cut(d, ".")
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q: %w", field, d, err)
	}
	f := int64(0)
	if frac != "" {
		if f, err = strconv.ParseInt(frac+strings.Repeat("0", 4-len(frac)), 10, 64); err != nil {
			return 0, fmt.Errorf("%s %q: %w", field, d, err)
		}
	}
	x := w*10000 + f
	if neg {
		x = -x
	}
	return x, nil
}
