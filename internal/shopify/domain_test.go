package shopify

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidShopDomain(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"example.myshopify.com", true},
		{"my-store-2.myshopify.com", true},
		{"0shop.myshopify.com", true},
		{strings.Repeat("a", 63) + ".myshopify.com", true},

		{"", false},
		{".myshopify.com", false},
		{"myshopify.com", false},
		{"-shop.myshopify.com", false},
		{"Example.myshopify.com", false}, // strict form is lower case; NormalizeShop folds
		{strings.Repeat("a", 64) + ".myshopify.com", false},
		{"evil.com/x.myshopify.com", false},
		{"x.myshopify.com.evil.com", false},
		{"x.myshopify.com/", false},
		{"x.myshopify.com.", false},
		{"x.myshopify.com:443", false},
		{"https://x.myshopify.com", false},
		{"user@x.myshopify.com", false},
		{"evil.com@x.myshopify.com", false},
		{"x.myshopify.com?x=1", false},
		{"x.myshopify.com#a", false},
		{"a.b.myshopify.com", false},
		{"x_y.myshopify.com", false},
		{"x.myshopifyXcom", false},
		{"x.myshopify.com\n", false},
		{"x.myshopify.com\x00", false},
		{"x\x00.myshopify.com", false},
		{" x.myshopify.com", false},
		{"xn--80ak6aa92e.myshopify.com", true}, // punycode is plain ASCII
		{"\u212Aevin.myshopify.com", false},    // KELVIN SIGN
		{"ex\u0430mple.myshopify.com", false},  // Cyrillic a
		{"x\uff0emyshopify.com", false},        // fullwidth full stop
		{"x.myshopify.com\u200b", false},       // zero-width space
		{"\xff.myshopify.com", false},          // invalid UTF-8
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, ValidShopDomain(tt.in))
		})
	}
}

func TestNormalizeShop(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"example.myshopify.com", "example.myshopify.com", false},
		{"  Example.MyShopify.COM \t", "example.myshopify.com", false},
		{"\u212Aevin.myshopify.com", "", true}, // would fold to "kevin"
		{"evil.com/x.myshopify.com", "", true},
		{"x.myshopify.com.evil.com", "", true},
		{"HTTPS://x.myshopify.com", "", true},
		{"x.myshopify.com:8080", "", true},
		{"example", "", true}, // no implicit suffix: ambiguous input is refused
		{"", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizeShop(tt.in)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrInvalidShop)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// FuzzValidShopDomain checks the regexp against an independent, hand-written
// reading of the rule and against what net/url would make of the host.
func FuzzValidShopDomain(f *testing.F) {
	for _, s := range []string{
		"example.myshopify.com", "evil.com/x.myshopify.com", "x.myshopify.com.evil.com",
		"a@b.myshopify.com", "x.myshopify.com:1", "\u212A.myshopify.com", "-a.myshopify.com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := ValidShopDomain(s)
		assert.Equal(t, referenceShopDomain(s), got, "%q", s)
		if !got {
			return
		}
		u, err := url.Parse("https://" + s + "/admin")
		require.NoError(t, err)
		assert.Equal(t, s, u.Host)
		assert.Equal(t, s, u.Hostname())
		assert.Equal(t, "/admin", u.Path)
		assert.Nil(t, u.User)

		n, err := NormalizeShop(s)
		require.NoError(t, err)
		assert.Equal(t, s, n)
	})
}

func referenceShopDomain(s string) bool {
	name, ok := strings.CutSuffix(s, ".myshopify.com")
	if !ok || name == "" || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
		if !alnum && (c != '-' || i == 0) {
			return false
		}
	}
	return true
}
