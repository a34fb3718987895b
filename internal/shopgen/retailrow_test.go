package shopgen

import (
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/simulator"
)

func london(t testing.TB) *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	require.NoError(t, err)
	return loc
}

func TestParseRetailRow(t *testing.T) {
	loc := london(t)
	tests := []struct {
		name    string
		line    string
		want    retailRow
		wantErr string
	}{
		{
			name: "sale",
			line: `536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01T08:26:00,2.55,17850,United Kingdom`,
			want: retailRow{invoice: 536365, code: "85123A", desc: "WHITE HANGING HEART T-LIGHT HOLDER", qty: 6,
				at: time.Date(2010, 12, 1, 8, 26, 0, 0, loc), price: 25500, customer: 17850, country: "United Kingdom"},
		},
		{
			name: "cancellation with quoted description and lower-case code",
			line: `C536379,84406b,"RECORD FRAME 7"" SINGLE SIZE",-2,2011-06-01T07:37:00,0.001,12346,EIRE`,
			want: retailRow{invoice: 536379, cancel: true, code: "84406B", desc: `RECORD FRAME 7" SINGLE SIZE`, qty: -2,
				at: time.Date(2011, 6, 1, 7, 37, 0, 0, loc), price: 10, customer: 12346, country: "EIRE"},
		},
		{
			name: "adjustment without customer",
			line: `A563186,B,Adjust bad debt,1,2011-08-12T14:51:00,-11062.06,,United Kingdom`,
			want: retailRow{invoice: 563186, adjust: true, code: "B", desc: "Adjust bad debt", qty: 1,
				at: time.Date(2011, 8, 12, 14, 51, 0, 0, loc), price: -110620600, country: "United Kingdom"},
		},
		{name: "too few fields", line: `536365,85123A,X,6,2010-12-01T08:26:00,2.55,17850`, wantErr: "7 fields"},
		{name: "bad invoice", line: `X536365,85123A,X,6,2010-12-01T08:26:00,2.55,17850,UK`, wantErr: "invoice"},
		{name: "signed invoice", line: `-536365,85123A,X,6,2010-12-01T08:26:00,2.55,17850,UK`, wantErr: "invoice"},
		{name: "empty code", line: `536365, ,X,6,2010-12-01T08:26:00,2.55,17850,UK`, wantErr: "stock code"},
		{name: "bad quantity", line: `536365,85123A,X,six,2010-12-01T08:26:00,2.55,17850,UK`, wantErr: "quantity"},
		{name: "huge quantity", line: `536365,85123A,X,99999999999,2010-12-01T08:26:00,2.55,17850,UK`, wantErr: "quantity"},
		{name: "bad date", line: `536365,85123A,X,6,01/12/2010 08:26,2.55,17850,UK`, wantErr: "date"},
		{name: "bad price", line: `536365,85123A,X,6,2010-12-01T08:26:00,2,55,17850,UK`, wantErr: "fields"},
		{name: "price with five decimals", line: `536365,85123A,X,6,2010-12-01T08:26:00,0.00001,17850,UK`, wantErr: "unit price"},
		{name: "absurd price", line: `536365,85123A,X,6,2010-12-01T08:26:00,99999999999,17850,UK`, wantErr: "unit price"},
		{name: "bad customer", line: `536365,85123A,X,6,2010-12-01T08:26:00,2.55,17850.0,UK`, wantErr: "customer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := csv.NewReader(strings.NewReader(tt.line)).Read()
			if err != nil {
				require.NotEmpty(t, tt.wantErr, "csv: %v", err)
				return
			}
			got, err := parseRetailRow(rec, loc)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, errRetailRow)
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.True(t, tt.want.at.Equal(got.at), "at %s", got.at)
			got.at = tt.want.at
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestProductType(t *testing.T) {
	tests := map[string]string{
		"WHITE HANGING HEART T-LIGHT HOLDER":  "Candles & Holders",
		"CHRISTMAS LIGHTS 10 REINDEER":        "Christmas",
		"JUMBO BAG RED RETROSPOT":             "Bags",
		"LUNCH BAG RED RETROSPOT":             "Bags",
		"PACK OF 72 RETROSPOT CAKE CASES":     "Baking",
		"REGENCY CAKESTAND 3 TIER":            "Baking",
		"SET OF 3 CAKE TINS PANTRY DESIGN":    "Baking",
		"HOME BUILDING BLOCK WORD":            "Gifts",
		"GLASS STAR FROSTED T-LIGHT HOLDER":   "Candles & Holders",
		"ROSES REGENCY TEACUP AND SAUCER":     "Mugs & Tableware",
		"CERAMIC STRAWBERRY DESIGN MUG":       "Mugs & Tableware",
		"RABBIT NIGHT LIGHT":                  "Lighting",
		"ASSORTED COLOUR BIRD ORNAMENT":       "Garden",
		"PARTY BUNTING":                       "Party",
		"GIN + TONIC DIET METAL SIGN":         "Signs & Plaques",
		"RED RETROSPOT WRAP":                  "Cards & Wrap",
		"PAPER CHAIN KIT 50'S CHRISTMAS":      "Christmas",
		"KNITTED UNION FLAG HOT WATER BOTTLE": "Soft Furnishings",
		"STRING OF HEARTS":                    "Decorations", // STRING is no RING
		"ALARM CLOCK BAKELIKE RED":            "Clocks",
		"SPACEBOY LUNCH BOX":                  "Toys & Games",
		"":                                    "Gifts",
	}
	for desc, want := range tests {
		assert.Equal(t, want, productType(desc), desc)
	}
}

func TestClassifyCode(t *testing.T) {
	tests := map[string]lineKind{
		"85123A": kindProduct, "DCGSSGIRL": kindProduct, "PADS": kindProduct,
		"POST": kindShipping, "DOT": kindShipping, "C2": kindShipping,
		"M": kindCustom, "S": kindCustom, "GIFT_0001_20": kindCustom,
		"D": kindDiscount, "BANK CHARGES": kindFee, "AMAZONFEE": kindFee, "CRUK": kindFee, "B": kindBadDebt,
	}
	for code, want := range tests {
		assert.Equal(t, want, classifyCode(code), code)
	}
}

func TestRetailUnitCost(t *testing.T) {
	price := amt("10")
	without := 0
	for i := range 1000 {
		code := "C" + strings.Repeat("X", i%7) + string(rune('A'+i%26)) + string(rune('0'+i%10)) + string(rune('a'+i/260))
		c := retailUnitCost(code, price)
		if c == nil {
			without++
			continue
		}
		assert.GreaterOrEqual(t, *c, amt("4"), code)
		assert.LessOrEqual(t, *c, amt("6.5"), code)
		assert.Equal(t, c, retailUnitCost(code, price), "cost must not change between calls")
	}
	assert.InDelta(t, 150, without, 40)
	assert.Nil(t, retailUnitCost("85123A", 0), "no cost without a price")
}

func TestRetailAddress(t *testing.T) {
	assert.Nil(t, retailAddress("Unspecified"))
	assert.Nil(t, retailAddress("European Community"))
	assert.Equal(t, &simulator.Address{Country: "South Africa", CountryCode: "ZA"}, retailAddress("RSA"))
	assert.Equal(t, &simulator.Address{Country: "Channel Islands"}, retailAddress("Channel Islands"))
	assert.Equal(t, &simulator.Address{Country: "Atlantis"}, retailAddress("Atlantis"))
}

// FuzzParseRetailRow feeds arbitrary CSV lines to the row parser: it must
// never panic, and what it accepts must be sane.
func FuzzParseRetailRow(f *testing.F) {
	f.Add(`536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01T08:26:00,2.55,17850,United Kingdom`)
	f.Add(`C536379,D,Discount,-1,2010-12-01T09:41:00,27.5,14527,United Kingdom`)
	f.Add(`A563185,B,Adjust bad debt,1,2011-08-12T14:50:00,11062.06,,United Kingdom`)
	f.Add(`536414,22139,,56,2010-12-01T11:52:00,0,,United Kingdom`)
	f.Add(`537226,"RECORD FRAME 7"" SINGLE SIZE",-1,2010-12-06T09:37:00,+.5,1,x`)
	loc := london(f)
	f.Fuzz(func(t *testing.T, line string) {
		r := csv.NewReader(strings.NewReader(line))
		r.FieldsPerRecord = -1
		rec, err := r.Read()
		if err != nil {
			return
		}
		row, err := parseRetailRow(rec, loc)
		if err != nil {
			require.ErrorIs(t, err, errRetailRow)
			return
		}
		require.Positive(t, row.invoice)
		require.NotEmpty(t, row.code)
		require.Equal(t, strings.ToUpper(row.code), row.code)
		require.False(t, row.cancel && row.adjust)
		require.LessOrEqual(t, row.price.Float64(), maxRetailPrice)
		require.GreaterOrEqual(t, row.price.Float64(), -maxRetailPrice)
		require.GreaterOrEqual(t, row.customer, int64(0))
		// Quantity times price must fit an Amount.
		_ = simulator.Amount(row.qty) * row.price
		require.Less(t, float64(row.qty)*row.price.Float64(), 1e16)
	})
}
