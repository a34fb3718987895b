package postgres_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
)

func TestOAuthStateIsSpentOnce(t *testing.T) {
	ctx := context.Background()
	states := postgres.NewOAuthStateStore(pgtest.New(t))
	const shop = "a.myshopify.com"
	require.NoError(t, states.Issue(ctx, "fresh", shop, time.Minute))
	require.NoError(t, states.Issue(ctx, "expired", shop, -time.Second))
	require.NoError(t, states.Issue(ctx, "other-shop", "b.myshopify.com", time.Minute))

	cases := []struct {
		name, nonce, shop string
		want              bool
	}{
		{"issued nonce", "fresh", shop, true},
		{"the same nonce again", "fresh", shop, false},
		{"expired nonce", "expired", shop, false},
		{"nonce of another shop", "other-shop", shop, false},
		{"never issued", "made-up", shop, false},
		{"the other shop's own nonce", "other-shop", "b.myshopify.com", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := states.Consume(ctx, tc.nonce, tc.shop)
			require.NoError(t, err)
			assert.Equal(t, tc.want, ok)
		})
	}
}

func TestOAuthStateConcurrentCallbacksOneWins(t *testing.T) {
	ctx := context.Background()
	states := postgres.NewOAuthStateStore(pgtest.New(t))
	require.NoError(t, states.Issue(ctx, "n", "a.myshopify.com", time.Minute))
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := states.Consume(ctx, "n", "a.myshopify.com")
			assert.NoError(t, err)
			if ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), wins.Load())
}
