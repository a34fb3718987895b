// Package goldenjson compares a value, as JSON, with a golden JSON answer
// kept under testdata: the same keys, lengths and values, numbers to a
// tolerance (reports keep some figures in float32). It is for tests.
package goldenjson

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"
)

// Tolerance is how far a number may be from the golden one.
const Tolerance = 1e-4

// AssertClose fails t with every place where got, marshalled to JSON,
// differs from the golden JSON.
func AssertClose(t testing.TB, golden []byte, got any) {
	t.Helper()
	raw, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var g, w any
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("unmarshal the value: %v", err)
	}
	if err := json.Unmarshal(golden, &w); err != nil {
		t.Fatalf("unmarshal the golden JSON: %v", err)
	}
	for _, d := range Diff("", w, g) {
		t.Error(d)
	}
}

// Diff lists where got differs from want, both decoded JSON, below path.
func Diff(path string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object, got %v", path, got)}
		}
		var out []string
		for k := range w {
			out = append(out, Diff(path+"."+k, w[k], g[k])...)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				out = append(out, fmt.Sprintf("%s.%s: not in the golden JSON", path, k))
			}
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: want %v, got %v", path, want, got)}
		}
		var out []string
		for i := range w {
			out = append(out, Diff(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return out
	case float64:
		if g, ok := got.(float64); !ok || math.Abs(g-w) > Tolerance {
			return []string{fmt.Sprintf("%s: want %v, got %v", path, want, got)}
		}
		return nil
	default:
		if want != got {
			return []string{fmt.Sprintf("%s: want %v, got %v", path, want, got)}
		}
		return nil
	}
}
