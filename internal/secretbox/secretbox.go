// Package secretbox encrypts secrets at rest (Shopify access and refresh
// tokens) with AES-256-GCM under a keyring that supports rotation.
//
// # ENCRYPTION_KEY format
//
// One or more keys separated by commas, the first being the current key used
// for sealing; the others can still open older values:
//
//	ENCRYPTION_KEY="v2:<base64 32 bytes>,v1:<base64 32 bytes>"
//
// A key id is 1-32 characters of [A-Za-z0-9_-]. A bare key without "id:" is
// the single key "v1". Keys are standard or URL-safe base64, padded or not,
// and must decode to exactly 32 bytes (generate one with
// `openssl rand -base64 32`).
//
// To rotate: put a new key first ("v3:...,v2:...,v1:..."), deploy, re-seal
// stored values for which NeedsRotation is true (Rotate does open+seal), then
// drop the old key.
//
// # Sealed format
//
//	{key id}:{base64url(nonce || ciphertext || tag)}
//
// with a random 96-bit nonce per value. The key id and any associated data
// are authenticated, so a value cannot be moved to another key id or, when
// sealed with associated data, to another record.
//
// Key material never appears in errors, String/GoString output or slog.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
)

const keySize = 32

// Errors from Open.
var (
	ErrMalformed  = errors.New("secretbox: malformed sealed value")
	ErrUnknownKey = errors.New("secretbox: sealed with a key that is not in the keyring")
	ErrDecrypt    = errors.New("secretbox: decryption failed (wrong key or tampered value)")
)

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// Keyring holds the current key and older keys still accepted by Open. It is
// safe for concurrent use.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
	ids     []string
}

// ParseKeyring reads the ENCRYPTION_KEY format described in the package doc.
func ParseKeyring(env string) (*Keyring, error) {
	env = strings.TrimSpace(env)
	if env == "" {
		return nil, errors.New("no encryption key configured")
	}
	kr := &Keyring{aeads: make(map[string]cipher.AEAD)}
	entries := strings.Split(env, ",")
	for i, entry := range entries {
		entry = strings.TrimSpace(entry)
		id, encoded, hasID := strings.Cut(entry, ":")
		if !hasID {
			if len(entries) > 1 {
				return nil, fmt.Errorf("key #%d has no id: use id:base64 when listing several keys", i+1)
			}
			id, encoded = "v1", entry
		}
		if !keyIDPattern.MatchString(id) {
			// The id is not echoed: a malformed entry may be a pasted key.
			return nil, fmt.Errorf("key #%d: id must be 1-32 characters of A-Z a-z 0-9 _ -", i+1)
		}
		if _, dup := kr.aeads[id]; dup {
			return nil, fmt.Errorf("key %q is listed twice", id)
		}
		key, err := decodeKey(strings.TrimSpace(encoded))
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", id, err)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", id, err)
		}
		clear(key)
		kr.aeads[id] = aead
		kr.ids = append(kr.ids, id)
		if i == 0 {
			kr.current = id
		}
	}
	return kr, nil
}

func decodeKey(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("empty key")
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		b, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(b) != keySize {
			clear(b)
			return nil, fmt.Errorf("decodes to %d bytes, need %d (AES-256)", len(b), keySize)
		}
		return b, nil
	}
	return nil, errors.New("not valid base64")
}

// CurrentKeyID is the id Seal uses.
func (k *Keyring) CurrentKeyID() string { return k.current }

// KeyIDs lists the ids in the keyring, current first.
func (k *Keyring) KeyIDs() []string { return append([]string(nil), k.ids...) }

// Seal encrypts plaintext under the current key.
func (k *Keyring) Seal(plaintext []byte) (string, error) {
	return k.SealWith(plaintext, nil)
}

// Open decrypts a value sealed under any key in the keyring.
func (k *Keyring) Open(sealed string) ([]byte, error) {
	return k.OpenWith(sealed, nil)
}

// SealWith is Seal with associated data (for example the shop domain the
// token belongs to): OpenWith then succeeds only with the same data, so a
// sealed value copied to another record does not open.
func (k *Keyring) SealWith(plaintext, associated []byte) (string, error) {
	aead := k.aeads[k.current]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("secretbox: nonce: %w", err)
	}
	out := aead.Seal(nonce, nonce, plaintext, additionalData(k.current, associated))
	return k.current + ":" + base64.RawURLEncoding.EncodeToString(out), nil
}

// OpenWith decrypts a value made by SealWith with the same associated data.
func (k *Keyring) OpenWith(sealed string, associated []byte) ([]byte, error) {
	id, encoded, ok := strings.Cut(sealed, ":")
	if !ok || !keyIDPattern.MatchString(id) {
		return nil, ErrMalformed
	}
	aead, known := k.aeads[id]
	if !known {
		return nil, fmt.Errorf("%w (key id %q)", ErrUnknownKey, id)
	}
	raw, err := base64.RawURLEncoding.DecodeString(encoded)
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return nil, ErrMalformed
	}
	nonce, ciphertext := raw[:aead.NonceSize()], raw[aead.NonceSize():]
	plaintext, err := aead.Open(nil, nonce, ciphertext, additionalData(id, associated))
	if err != nil {
		return nil, ErrDecrypt
	}
	return plaintext, nil
}

// NeedsRotation reports whether sealed was not made with the current key
// (including values that are not sealed at all), so it should be re-sealed.
func (k *Keyring) NeedsRotation(sealed string) bool {
	id, _, ok := strings.Cut(sealed, ":")
	return !ok || id != k.current
}

// Rotate re-seals a value under the current key if it needs it, returning it
// unchanged otherwise.
func (k *Keyring) Rotate(sealed string) (string, error) {
	return k.RotateWith(sealed, nil)
}

// RotateWith is Rotate for values sealed with associated data.
func (k *Keyring) RotateWith(sealed string, associated []byte) (string, error) {
	if !k.NeedsRotation(sealed) {
		return sealed, nil
	}
	plaintext, err := k.OpenWith(sealed, associated)
	if err != nil {
		return "", err
	}
	defer clear(plaintext)
	return k.SealWith(plaintext, associated)
}

// additionalData binds the format version and key id, plus the caller's
// associated data, into the GCM tag.
func additionalData(id string, associated []byte) []byte {
	ad := make([]byte, 0, 16+len(id)+len(associated))
	ad = append(ad, "cvo-secretbox/v1\x00"...)
	ad = append(ad, id...)
	ad = append(ad, 0)
	return append(ad, associated...)
}

// String shows only key ids, so printing a Keyring cannot leak keys.
func (k *Keyring) String() string {
	return fmt.Sprintf("secretbox.Keyring{current: %s, keys: %s}", k.current, strings.Join(k.ids, ","))
}

// GoString keeps %#v as safe as %v.
func (k *Keyring) GoString() string { return k.String() }

// LogValue keeps slog as safe as fmt.
func (k *Keyring) LogValue() slog.Value {
	return slog.GroupValue(slog.String("current", k.current), slog.String("keys", strings.Join(k.ids, ",")))
}
