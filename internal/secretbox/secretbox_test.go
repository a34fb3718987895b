package secretbox

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newKey(t testing.TB) string {
	t.Helper()
	b := make([]byte, 32)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(b)
}

func TestParseKeyring(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	raw, err := base64.StdEncoding.DecodeString(k1)
	require.NoError(t, err)

	tests := []struct {
		name        string
		env         string
		wantCurrent string
		wantIDs     []string
		wantErr     string
	}{
		{name: "bare key is v1", env: k1, wantCurrent: "v1", wantIDs: []string{"v1"}},
		{name: "bare key with spaces", env: "  " + k1 + "\n", wantCurrent: "v1", wantIDs: []string{"v1"}},
		{name: "two keys, first current", env: "v2:" + k2 + ", v1:" + k1, wantCurrent: "v2", wantIDs: []string{"v2", "v1"}},
		{name: "url-safe unpadded", env: "k_1:" + base64.RawURLEncoding.EncodeToString(raw), wantCurrent: "k_1", wantIDs: []string{"k_1"}},
		{name: "empty", env: " ", wantErr: "no encryption key"},
		{name: "not base64", env: "v1:!!!!", wantErr: `key "v1": not valid base64`},
		{name: "short key", env: "v1:" + base64.StdEncoding.EncodeToString(raw[:16]), wantErr: "decodes to 16 bytes, need 32"},
		{name: "long key", env: "v1:" + base64.StdEncoding.EncodeToString(append(raw, 1)), wantErr: "decodes to 33 bytes"},
		{name: "empty key", env: "v1:", wantErr: "empty key"},
		{name: "duplicate id", env: "v1:" + k1 + ",v1:" + k2, wantErr: `key "v1" is listed twice`},
		{name: "bad id", env: "v 1:" + k1, wantErr: "key #1: id must be"},
		{name: "bare key among several", env: k1 + ",v2:" + k2, wantErr: "key #1 has no id"},
		{name: "trailing comma", env: "v1:" + k1 + ",", wantErr: "key #2 has no id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kr, err := ParseKeyring(tt.env)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				for _, k := range []string{k1, k2} {
					assert.NotContains(t, err.Error(), k, "errors must not echo key material")
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantCurrent, kr.CurrentKeyID())
			assert.Equal(t, tt.wantIDs, kr.KeyIDs())
		})
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	kr, err := ParseKeyring("v1:" + newKey(t))
	require.NoError(t, err)
	for _, plaintext := range [][]byte{[]byte("shpat_0123456789abcdef"), {}, bytes.Repeat([]byte{0}, 4096)} {
		sealed, err := kr.Seal(plaintext)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(sealed, "v1:"))
		if len(plaintext) > 0 {
			assert.NotContains(t, sealed, string(plaintext))
		}
		got, err := kr.Open(sealed)
		require.NoError(t, err)
		assert.Equal(t, len(plaintext), len(got))
		assert.True(t, bytes.Equal(plaintext, got))
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	kr, err := ParseKeyring(newKey(t))
	require.NoError(t, err)
	a, err := kr.Seal([]byte("same"))
	require.NoError(t, err)
	b, err := kr.Seal([]byte("same"))
	require.NoError(t, err)
	assert.NotEqual(t, a, b)
}

func TestRotation(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	old, err := ParseKeyring("v1:" + k1)
	require.NoError(t, err)
	sealedOld, err := old.Seal([]byte("token-A"))
	require.NoError(t, err)

	rotated, err := ParseKeyring("v2:" + k2 + ",v1:" + k1)
	require.NoError(t, err)
	assert.True(t, rotated.NeedsRotation(sealedOld))

	got, err := rotated.Open(sealedOld)
	require.NoError(t, err, "old values still open after a new key is added")
	assert.Equal(t, "token-A", string(got))

	resealed, err := rotated.Rotate(sealedOld)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(resealed, "v2:"))
	assert.False(t, rotated.NeedsRotation(resealed))
	same, err := rotated.Rotate(resealed)
	require.NoError(t, err)
	assert.Equal(t, resealed, same, "values under the current key are left alone")

	onlyNew, err := ParseKeyring("v2:" + k2)
	require.NoError(t, err)
	_, err = onlyNew.Open(sealedOld)
	assert.ErrorIs(t, err, ErrUnknownKey)
	got, err = onlyNew.Open(resealed)
	require.NoError(t, err)
	assert.Equal(t, "token-A", string(got))

	assert.True(t, rotated.NeedsRotation("plaintext-token"))
}

func TestOpenRejects(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	kr, err := ParseKeyring("v2:" + k2 + ",v1:" + k1)
	require.NoError(t, err)
	good, err := kr.Seal([]byte("secret"))
	require.NoError(t, err)
	_, body, _ := strings.Cut(good, ":")
	raw, err := base64.RawURLEncoding.DecodeString(body)
	require.NoError(t, err)
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)-1] ^= 1

	// A value sealed under v2 relabelled as v1 must not open even though v1
	// is a valid key: the id is authenticated.
	otherKey, err := ParseKeyring("v1:" + k1)
	require.NoError(t, err)
	underV1, err := otherKey.Seal([]byte("secret"))
	require.NoError(t, err)
	_, v1Body, _ := strings.Cut(underV1, ":")

	tests := []struct {
		name   string
		sealed string
		want   error
	}{
		{"empty", "", ErrMalformed},
		{"no id", body, ErrMalformed},
		{"bad id", "v 2:" + body, ErrMalformed},
		{"not base64", "v2:***", ErrMalformed},
		{"too short", "v2:" + base64.RawURLEncoding.EncodeToString(raw[:10]), ErrMalformed},
		{"unknown key", "v9:" + body, ErrUnknownKey},
		{"tampered", "v2:" + base64.RawURLEncoding.EncodeToString(flipped), ErrDecrypt},
		{"relabelled v2 as v1", "v1:" + body, ErrDecrypt},
		{"relabelled v1 as v2", "v2:" + v1Body, ErrDecrypt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kr.Open(tt.sealed)
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

func TestAssociatedData(t *testing.T) {
	kr, err := ParseKeyring(newKey(t))
	require.NoError(t, err)
	sealed, err := kr.SealWith([]byte("token"), []byte("a.myshopify.com"))
	require.NoError(t, err)

	got, err := kr.OpenWith(sealed, []byte("a.myshopify.com"))
	require.NoError(t, err)
	assert.Equal(t, "token", string(got))

	_, err = kr.OpenWith(sealed, []byte("b.myshopify.com"))
	assert.ErrorIs(t, err, ErrDecrypt, "a token copied to another shop's row must not open")
	_, err = kr.Open(sealed)
	assert.ErrorIs(t, err, ErrDecrypt)
}

func TestKeyringNeverPrintsKeys(t *testing.T) {
	key := newKey(t)
	raw, err := base64.StdEncoding.DecodeString(key)
	require.NoError(t, err)
	kr, err := ParseKeyring("v1:" + key)
	require.NoError(t, err)

	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "keys", kr)
	for _, out := range []string{fmt.Sprint(kr), fmt.Sprintf("%+v", kr), fmt.Sprintf("%#v", kr), logged.String()} {
		assert.Contains(t, out, "v1")
		assert.NotContains(t, out, key)
		assert.NotContains(t, out, string(raw))
		assert.NotContains(t, out, fmt.Sprintf("%x", raw))
	}
}

// FuzzOpen: arbitrary input never panics and never opens.
func FuzzOpen(f *testing.F) {
	kr, err := ParseKeyring("v2:" + newKey(f) + ",v1:" + newKey(f))
	require.NoError(f, err)
	good, err := kr.Seal([]byte("x"))
	require.NoError(f, err)
	f.Add(good)
	f.Add("v1:")
	f.Add("v2:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, sealed string) {
		got, err := kr.Open(sealed)
		if err == nil {
			// Only an authentic value opens: re-encodings of the seed are
			// the one way in, and they carry its plaintext.
			assert.Equal(t, "x", string(got))
		}
	})
}

func BenchmarkSealOpen(b *testing.B) {
	kr, err := ParseKeyring(newKey(b))
	require.NoError(b, err)
	token := []byte("shpat_0123456789abcdef0123456789abcdef")
	for b.Loop() {
		s, err := kr.Seal(token)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := kr.Open(s); err != nil {
			b.Fatal(err)
		}
	}
}
