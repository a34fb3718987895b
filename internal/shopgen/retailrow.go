package shopgen

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cvo-app/cvo/internal/simulator"
)

// retailHeader is the Online Retail file's header, checked so that a file
// with reordered or renamed columns fails loudly instead of loading garbage.
var retailHeader = []string{"InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"}

// retailRow is one parsed Online Retail line item.
type retailRow struct {
	invoice  int64 // the number without its C or A prefix
	cancel   bool  // C prefix: a cancellation
	adjust   bool  // A prefix: an accounting adjustment
	code     string
	desc     string
	qty      int
	at       time.Time // UK wall-clock time, in the location given to the parser
	price    simulator.Amount
	customer int64 // 0 = none
	country  string
}

const retailTimeLayout = "2006-01-02T15:04:05"

// maxRetailPrice bounds unit prices so that quantity times price can never
// overflow an Amount; the file's largest is 38,970.
const maxRetailPrice = 1e9

var errRetailRow = errors.New("malformed Online Retail row")

// parseRetailRow reads one CSV record. loc is the shop's time zone: the
// file's times are London wall-clock times without an offset.
func parseRetailRow(rec []string, loc *time.Location) (retailRow, error) {
	var r retailRow
	if len(rec) != len(retailHeader) {
		return r, fmt.Errorf("%w: %d fields, want %d", errRetailRow, len(rec), len(retailHeader))
	}
	inv := rec[0]
	switch {
	case strings.HasPrefix(inv, "C"):
		r.cancel = true
		inv = inv[1:]
	case strings.HasPrefix(inv, "A"):
		r.adjust = true
		inv = inv[1:]
	}
	n, err := parseDigits(inv, 9)
	if err != nil || n == 0 {
		return r, fmt.Errorf("%w: invoice %q", errRetailRow, rec[0])
	}
	r.invoice = n
	r.code = strings.ToUpper(strings.TrimSpace(rec[1]))
	if r.code == "" {
		return r, fmt.Errorf("%w: invoice %s: empty stock code", errRetailRow, rec[0])
	}
	r.desc = strings.TrimSpace(rec[2])
	qty, err := strconv.Atoi(rec[3])
	if err != nil || qty < -1e7 || qty > 1e7 {
		return r, fmt.Errorf("%w: invoice %s: quantity %q", errRetailRow, rec[0], rec[3])
	}
	r.qty = qty
	at, err := time.ParseInLocation(retailTimeLayout, rec[4], loc)
	if err != nil {
		return r, fmt.Errorf("%w: invoice %s: date %q", errRetailRow, rec[0], rec[4])
	}
	r.at = at
	price, err := simulator.ParseAmount(rec[5])
	if err != nil || price.Float64() > maxRetailPrice || price.Float64() < -maxRetailPrice {
		return r, fmt.Errorf("%w: invoice %s: unit price %q", errRetailRow, rec[0], rec[5])
	}
	r.price = price
	if rec[6] != "" {
		c, err := parseDigits(rec[6], 12)
		if err != nil || c == 0 {
			return r, fmt.Errorf("%w: invoice %s: customer %q", errRetailRow, rec[0], rec[6])
		}
		r.customer = c
	}
	r.country = strings.TrimSpace(rec[7])
	return r, nil
}

// parseDigits reads a positive decimal integer of at most maxLen digits;
// unlike strconv it accepts no sign, so "-5" and "+5" are not invoice
// numbers.
func parseDigits(s string, maxLen int) (int64, error) {
	if s == "" || len(s) > maxLen {
		return 0, errors.New("bad length")
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, errors.New("not a digit")
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

// lineKind says what a stock code stands for on a Shopify order.
type lineKind uint8

const (
	kindProduct  lineKind = iota // a catalogue product: line item with a variant
	kindCustom                   // manual lines, samples, gift vouchers: custom line items
	kindShipping                 // postage and carriage: part of the total, not a line item
	kindDiscount                 // after-sale discounts: refunds on the customer's latest order
	kindFee                      // bank charges and marketplace fees: not customer money, skipped
	kindBadDebt                  // bad-debt write-offs: skipped
)

// classifyCode sorts the file's stock codes. Everything that is not one
// of the bookkeeping codes the dataset documents is a product, including
// DCGS* (dotcom gift shop items such as party bags) and PADS.
func classifyCode(code string) lineKind {
	switch code {
	case "POST", "DOT", "C2":
		return kindShipping
	case "M", "S":
		return kindCustom
	case "D":
		return kindDiscount
	case "BANK CHARGES", "AMAZONFEE", "CRUK":
		return kindFee
	case "B":
		return kindBadDebt
	}
	if strings.HasPrefix(code, "GIFT_0001_") {
		return kindCustom
	}
	return kindProduct
}

// productTypeRules map description keywords to product types. The first
// rule with a matching word wins, so seasonal and specific types come
// before broad ones (a CHRISTMAS LIGHT is Christmas, a T-LIGHT HOLDER a
// candle holder, not lighting).
var productTypeRules = []struct {
	productType string
	words       []string
}{
	{"Christmas", []string{"CHRISTMAS", "XMAS", "ADVENT", "SANTA", "REINDEER", "SNOWFLAKE", "NATIVITY"}},
	{"Candles & Holders", []string{"CANDLE", "T-LIGHT", "TLIGHT", "TEA LIGHT", "TEALIGHT", "LANTERN", "INCENSE"}},
	{"Bags", []string{"BAG", "SHOPPER", "TOTE", "PURSE", "BACKPACK", "RUCKSACK"}},
	{"Baking", []string{"CAKE CASES", "CAKE TIN", "CAKESTAND", "BAKING", "CUPCAKE", "JELLY MOULD", "COOKIE CUTTER"}},
	{"Mugs & Tableware", []string{"MUG", "CUP", "TEACUP", "SAUCER", "PLATE", "BOWL", "JUG", "TEAPOT", "BEAKER", "TUMBLER", "NAPKINS", "TRAY", "COASTER", "PLACEMATS", "CUTLERY"}},
	{"Lighting", []string{"LIGHT", "LAMP", "LAMPSHADE", "NIGHTLIGHT"}},
	{"Cards & Wrap", []string{"CARD", "WRAP", "ENVELOPE", "TAG", "RIBBON", "GIFT TAPE"}},
	{"Stationery", []string{"NOTEBOOK", "PEN", "PENCIL", "PENCILS", "STICKER", "ERASER", "NOTEPAD", "JOURNAL", "DIARY", "CALENDAR", "STATIONERY", "BOOKMARK"}},
	{"Signs & Plaques", []string{"SIGN", "PLAQUE"}},
	{"Frames", []string{"FRAME", "PHOTO"}},
	{"Clocks", []string{"CLOCK"}},
	{"Party", []string{"PARTY", "BUNTING", "BALLOON", "BALLOONS", "CONFETTI", "GARLAND"}},
	{"Toys & Games", []string{"TOY", "DOLL", "GAME", "PLAYHOUSE", "JIGSAW", "PUZZLE", "SKITTLES", "DOMINOES", "SPACEBOY", "TEDDY", "CRAYONS"}},
	{"Jewellery & Accessories", []string{"NECKLACE", "EARRINGS", "BRACELET", "BANGLE", "BROOCH", "HAIR", "JEWEL", "RING", "RINGS", "UMBRELLA"}},
	{"Soft Furnishings", []string{"CUSHION", "THROW", "BLANKET", "HOT WATER BOTTLE", "QUILT", "APRON", "TEA TOWEL", "TOWEL"}},
	{"Storage", []string{"BOX", "BOXES", "TIN", "TINS", "BASKET", "JAR", "DRAWER", "CABINET", "CRATE", "HOOK", "HOOKS", "HANGER", "RACK", "SHELF"}},
	{"Garden", []string{"GARDEN", "PLANT", "PLANTER", "POT", "WATERING", "BIRD", "FEEDER", "DOORMAT"}},
	{"Decorations", []string{"HANGING", "DECORATION", "ORNAMENT", "WREATH", "HEART", "BAUBLE", "GLASS", "MIRROR", "DOORSTOP", "VASE"}},
}

// productType derives a Shopify product type from a description by the
// keyword rules; descriptions matching none are "Gifts".
func productType(desc string) string {
	words := descWords(desc)
	for _, rule := range productTypeRules {
		for _, w := range rule.words {
			if containsPhrase(words, w) {
				return rule.productType
			}
		}
	}
	return "Gifts"
}

// descWords splits a description into upper-case words on anything but
// letters, digits and hyphens, so "T-LIGHT" stays one word and "BAG," loses
// its comma.
func descWords(desc string) []string {
	return strings.FieldsFunc(strings.ToUpper(desc), func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-')
	})
}

// containsPhrase reports whether words hold phrase as consecutive words,
// allowing a plural S or ES on the last one ("BAGS", "BOXES").
func containsPhrase(words []string, phrase string) bool {
	parts := strings.Fields(phrase)
	for i := 0; i+len(parts) <= len(words); i++ {
		ok := true
		for j, p := range parts {
			w := words[i+j]
			if w == p {
				continue
			}
			if j == len(parts)-1 && (w == p+"S" || w == p+"ES") {
				continue
			}
			ok = false
			break
		}
		if ok {
			return true
		}
	}
	return false
}

// retailVendors are invented supplier names: the dataset names no
// suppliers, and the vendor reports need a handful of them.
var retailVendors = []string{
	"Albion Giftware", "Kingsway Imports", "Thistle & Rose", "Brightwater Homeware",
	"Paper Lantern Co", "Old Mill Crafts", "Harbour Lights Trading", "Little Acorn Toys",
}

// retailVendor picks a vendor from the stock code's first three
// characters: codes in one family (84559A, 84559B...) tend to be one
// range from one supplier, so they share a vendor.
func retailVendor(code string) string {
	family := code
	if len(family) > 3 {
		family = family[:3]
	}
	return retailVendors[hash64("vendor", family)%uint64(len(retailVendors))]
}

// countryCodes maps the dataset's country names to Shopify's country name
// and ISO code. Names that are no country (Unspecified, European
// Community) and Channel Islands, which is two jurisdictions, map to no
// code.
var countryCodes = map[string][2]string{
	"United Kingdom": {"United Kingdom", "GB"}, "Germany": {"Germany", "DE"}, "France": {"France", "FR"},
	"EIRE": {"Ireland", "IE"}, "Spain": {"Spain", "ES"}, "Netherlands": {"Netherlands", "NL"},
	"Belgium": {"Belgium", "BE"}, "Switzerland": {"Switzerland", "CH"}, "Portugal": {"Portugal", "PT"},
	"Australia": {"Australia", "AU"}, "Norway": {"Norway", "NO"}, "Italy": {"Italy", "IT"},
	"Finland": {"Finland", "FI"}, "Cyprus": {"Cyprus", "CY"}, "Sweden": {"Sweden", "SE"},
	"Austria": {"Austria", "AT"}, "Denmark": {"Denmark", "DK"}, "Japan": {"Japan", "JP"},
	"Poland": {"Poland", "PL"}, "Israel": {"Israel", "IL"}, "USA": {"United States", "US"},
	"Hong Kong": {"Hong Kong SAR", "HK"}, "Singapore": {"Singapore", "SG"}, "Iceland": {"Iceland", "IS"},
	"Canada": {"Canada", "CA"}, "Greece": {"Greece", "GR"}, "Malta": {"Malta", "MT"},
	"United Arab Emirates": {"United Arab Emirates", "AE"}, "RSA": {"South Africa", "ZA"},
	"Lebanon": {"Lebanon", "LB"}, "Lithuania": {"Lithuania", "LT"}, "Brazil": {"Brazil", "BR"},
	"Czech Republic": {"Czechia", "CZ"}, "Bahrain": {"Bahrain", "BH"}, "Saudi Arabia": {"Saudi Arabia", "SA"},
}

// retailAddress turns a dataset country into a default address at country
// level; nil when the country is unknown or no country at all.
func retailAddress(country string) *simulator.Address {
	switch country {
	case "", "Unspecified", "European Community":
		return nil
	case "Channel Islands":
		return &simulator.Address{Country: country}
	}
	if c, ok := countryCodes[country]; ok {
		return &simulator.Address{Country: c[0], CountryCode: c[1]}
	}
	return &simulator.Address{Country: country}
}
