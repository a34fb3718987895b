package simulator

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Amount is a money amount in ten-thousandths of the currency unit. A fixed
// point integer keeps millions of orders small in memory and exact in sums;
// four decimals cover the odd unit cost below a cent in the demo data.
type Amount int64

const amountScale = 10000

// NewAmount converts a float (as read from a CSV file) to an Amount,
// rounding to the nearest ten-thousandth.
func NewAmount(f float64) Amount {
	return Amount(math.Round(f * amountScale))
}

// ParseAmount reads a decimal string such as "12.5" or "-0.0125".
func ParseAmount(s string) (Amount, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("parse amount: empty string")
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" {
		return 0, fmt.Errorf("parse amount %q: no digits", s)
	}
	if len(frac) > 4 {
		return 0, fmt.Errorf("parse amount %q: more than 4 decimals", s)
	}
	var w int64
	if whole != "" {
		v, err := strconv.ParseInt(whole, 10, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("parse amount %q: bad integer part", s)
		}
		w = v
	}
	var f int64
	if frac != "" {
		v, err := strconv.ParseInt(frac+strings.Repeat("0", 4-len(frac)), 10, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("parse amount %q: bad decimals", s)
		}
		f = v
	}
	a := Amount(w*amountScale + f)
	if neg {
		a = -a
	}
	return a, nil
}

// Float64 returns the amount as a float, for reports and tests.
func (a Amount) Float64() float64 { return float64(a) / amountScale }

// String formats the amount the way Shopify's Decimal scalar does: no
// trailing zeros, but always at least one decimal ("403.0", "12.5", "59.95").
func (a Amount) String() string {
	neg := a < 0
	v := int64(a)
	if neg {
		v = -v
	}
	whole := v / amountScale
	frac := v % amountScale
	fs := fmt.Sprintf("%04d", frac)
	fs = strings.TrimRight(fs, "0")
	if fs == "" {
		fs = "0"
	}
	s := strconv.FormatInt(whole, 10) + "." + fs
	if neg {
		s = "-" + s
	}
	return s
}

// moneyString formats an amount for the Money scalar (used by
// ProductVariant.price), which Shopify renders with two decimals.
func moneyString(a Amount) string {
	neg := a < 0
	v := int64(a)
	if neg {
		v = -v
	}
	cents := (v + 50) / 100
	s := fmt.Sprintf("%d.%02d", cents/100, cents%100)
	if neg {
		s = "-" + s
	}
	return s
}
