package goldenjson

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDiffFindsEveryDifference(t *testing.T) {
	cases := map[string]struct {
		want, got string
		diffs     []string
	}{
		"equal":              {`{"a":[1,2],"b":"x"}`, `{"b":"x","a":[1,2]}`, nil},
		"within tolerance":   {`{"a":1.00001}`, `{"a":1}`, nil},
		"number off":         {`{"a":1.001}`, `{"a":1}`, []string{".a: want 1.001, got 1"}},
		"missing key":        {`{"a":1,"b":2}`, `{"a":1}`, []string{".b: want 2, got <nil>"}},
		"extra key":          {`{"a":1}`, `{"a":1,"c":true}`, []string{".c: not in the golden JSON"}},
		"length":             {`{"a":[1,2]}`, `{"a":[1]}`, []string{".a: want [1 2], got [1]"}},
		"nested element":     {`[{"x":"p"}]`, `[{"x":"q"}]`, []string{"[0].x: want p, got q"}},
		"object for a value": {`{"a":{"b":1}}`, `{"a":3}`, []string{".a: want an object, got 3"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var w, g any
			require.NoError(t, json.Unmarshal([]byte(tc.want), &w))
			require.NoError(t, json.Unmarshal([]byte(tc.got), &g))
			assert.Equal(t, tc.diffs, Diff("", w, g))
		})
	}
}
