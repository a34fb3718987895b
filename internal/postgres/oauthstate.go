package postgres

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"
)

// OAuthStateStore keeps the authorization-code grant's state nonces, so
// each is accepted once, for its shop, before it expires.
type OAuthStateStore struct {
	db *DB
}

// NewOAuthStateStore returns the store of OAuth state nonces.
func NewOAuthStateStore(db *DB) *OAuthStateStore { return &OAuthStateStore{db: db} }

// expiredStatesPerIssue bounds the clean-up each new state does, so the
// table stays small without a job and no request does unbounded work.
const expiredStatesPerIssue = 100

// Issue stores a new nonce for shop, valid for ttl, and drops a few
// expired ones.
func (s *OAuthStateStore) Issue(ctx context.Context, nonce, shop string, ttl time.Duration) error {
	_, err := s.db.Pool.Exec(ctx, `INSERT INTO oauth_states (nonce_hash, shop, expires_at) VALUES ($1, $2, now() + $3 * interval '1 millisecond')`,
		nonceHash(nonce), shop, ttl.Milliseconds())
	if err != nil {
		return fmt.Errorf("store oauth state for %s: %w", shop, err)
	}
	_, err = s.db.Pool.Exec(ctx, `DELETE FROM oauth_states WHERE nonce_hash IN
		(SELECT nonce_hash FROM oauth_states WHERE expires_at < now() ORDER BY expires_at LIMIT $1)`, expiredStatesPerIssue)
	if err != nil {
		return fmt.Errorf("expire oauth states: %w", err)
	}
	return nil
}

// Consume spends a nonce: true exactly once, for the shop it was issued
// to, before it expires. Concurrent callbacks with the same nonce cannot
// both win: the row is deleted by the one that gets it.
func (s *OAuthStateStore) Consume(ctx context.Context, nonce, shop string) (bool, error) {
	tag, err := s.db.Pool.Exec(ctx, `DELETE FROM oauth_states WHERE nonce_hash = $1 AND shop = $2 AND expires_at > now()`, nonceHash(nonce), shop)
	if err != nil {
		return false, fmt.Errorf("consume oauth state for %s: %w", shop, err)
	}
	return tag.RowsAffected() == 1, nil
}

func nonceHash(nonce string) []byte {
	h := sha256.Sum256([]byte(nonce))
	return h[:]
}
