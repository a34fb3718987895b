package webhooks

import (
	"regexp"
	"strings"
	"testing"
)

// The header checks are byte loops for speed; these are the patterns they
// stand for.
var (
	topicPattern     = regexp.MustCompile(`^[a-z_]+/[a-z_]+$`)
	webhookIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
)

func FuzzHeaderChecks(f *testing.F) {
	for _, s := range []string{"", "orders/create", "/create", "orders/", "orders//create", "a/b/c", "Orders/create", "orders/create\n",
		"b1d2c3e4-5f60-4a7b-8c9d-0e1f2a3b4c5d", "gid://shopify/Event/1", "a b", "é", strings.Repeat("a", 129), strings.Repeat("a", 128)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validTopic(s), topicPattern.MatchString(s); got != want {
			t.Fatalf("validTopic(%q) = %v, the pattern says %v", s, got, want)
		}
		if got, want := validWebhookID(s), webhookIDPattern.MatchString(s); got != want {
			t.Fatalf("validWebhookID(%q) = %v, the pattern says %v", s, got, want)
		}
	})
}
