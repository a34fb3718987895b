package fleet

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIsGroupTag(t *testing.T) {
	tests := []struct {
		tag, prefix string
		want        bool
	}{
		{"cvo-soulmates", "cvo-", true},
		{"cvo-about-to-dump-you", "cvo-", true},
		{"cvo-value-high", "cvo-", false},
		{"cvo-churn-risk-high", "cvo-", false},
		{"vip", "cvo-", false},
		{"cvo-soulmates", "cvx-", false},
		{"cvx-lovers", "cvx-", true},
	}
	for _, tt := range tests {
		t.Run(tt.tag+"/"+tt.prefix, func(t *testing.T) {
			assert.Equal(t, tt.want, isGroupTag(tt.tag, tt.prefix))
		})
	}
}

func TestProblemsNameEveryCount(t *testing.T) {
	tests := []struct {
		name  string
		check ShopCheck
		want  int
	}{
		{"right", ShopCheck{Shop: "a", ScoringID: 1, Scored: 10, Customers: 12, Segments: 11}, 0},
		{"never scored", ShopCheck{Shop: "a"}, 1},
		{"a wrong tag", ShopCheck{Shop: "a", ScoringID: 1, WrongTag: 1}, 1},
		{"everything wrong", ShopCheck{Shop: "a", ScoringID: 1, WrongTag: 1, StrayTag: 1, WrongMetafield: 1, ForeignToken: 1,
			MissingCustomer: 1, ExtraCustomer: 1, WrongCustomer: 1, MissingOrder: 1, ExtraOrder: 1, WrongTotal: 1, WrongCancel: 1,
			MissingRefund: 1, ExtraRefund: 1, MissingSegments: 1}, 14},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Len(t, tt.check.Problems(), tt.want)
		})
	}
}
