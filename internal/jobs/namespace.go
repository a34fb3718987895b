package jobs

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Remove deletes every key asynq keeps under the namespace's queues and the
// queues from asynq's list of queues; nothing outside the namespace is
// touched. Stop the namespace's workers first: a running task's keys would
// be deleted under it.
func (ns Namespace) Remove(ctx context.Context, rc redis.UniversalClient) error {
	for q := range ns.Queues() {
		// asynq keeps a queue's keys under asynq:{queue}; braces are literal
		// in a SCAN pattern. A queue name with glob characters would match
		// more than its own keys, so it is refused.
		if hasGlob(q) {
			return fmt.Errorf("remove namespace %q: queue name %q has glob characters", ns, q)
		}
		iter := rc.Scan(ctx, 0, "asynq:{"+q+"}*", 500).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			return fmt.Errorf("remove namespace %q: %w", ns, err)
		}
		for len(keys) > 0 {
			n := min(len(keys), 500)
			if err := rc.Del(ctx, keys[:n]...).Err(); err != nil {
				return fmt.Errorf("remove namespace %q: %w", ns, err)
			}
			keys = keys[n:]
		}
		if err := rc.SRem(ctx, "asynq:queues", q).Err(); err != nil {
			return fmt.Errorf("remove namespace %q: %w", ns, err)
		}
	}
	return nil
}

func hasGlob(s string) bool {
	for _, r := range s {
		switch r {
		case '*', '?', '[', ']', '\\':
			return true
		}
	}
	return false
}
