package clv

import (
	"sync"
	"testing"
	"time"
)

// Synthetic shop for the large benchmarks: one million customers acquired
// uniformly over two years, purchase behaviour drawn from the BG/NBD
// process with daily parameters, summarized per calendar day.
var (
	bigShopOnce      sync.Once
	bigShopSummaries []Summary
	bigShopParams    = bgFamily{r: 0.25, alpha: 30, a: 0.8, b: 2.5}
)

func bigShop() []Summary {
	bigShopOnce.Do(func() {
		bigShopSummaries = simulateSummaries(20240601, 1_000_000, bigShopParams, 730)
	})
	return bigShopSummaries
}

func BenchmarkFitBGNBD(b *testing.B) {
	data := Compress(cdnowCalibration(b).Customers)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := FitBGNBD(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFitMBGNBD(b *testing.B) {
	data := Compress(cdnowCalibration(b).Customers)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := FitMBGNBD(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFitBGNBD1M covers what the app does with a big shop: compress a
// million day-unit summaries to distinct triples and fit.
func BenchmarkFitBGNBD1M(b *testing.B) {
	customers := bigShop()
	b.ReportAllocs()
	b.ResetTimer()
	var triples int
	for b.Loop() {
		data := Compress(customers)
		triples = len(data)
		if _, _, err := FitBGNBD(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(triples), "triples")
}

func BenchmarkFitMBGNBD1M(b *testing.B) {
	customers := bigShop()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := FitMBGNBD(Compress(customers)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompress1M(b *testing.B) {
	customers := bigShop()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		Compress(customers)
	}
}

// BenchmarkPredictAll1M: P(alive), 12 monthly expectations, next order date
// and CLV for every customer of the big shop.
func BenchmarkPredictAll1M(b *testing.B) {
	customers := bigShop()
	f, err := Fit(Dataset{AsOf: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), Unit: Days, Customers: customers}, DefaultConfig())
	if err != nil || f.Fallback {
		b.Fatal(err, f.Reason)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f.PredictAll(customers)
	}
}

func BenchmarkConditionalExpected(b *testing.B) {
	m := MBGNBD{0.525, 6.183, 0.891, 1.614}
	b.ReportAllocs()
	for b.Loop() {
		m.ConditionalExpected(52, 3, 20, 38.86)
	}
}

func BenchmarkHyp2F1NearOne(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		hyp2f1(2.3, 4.1, 7.9, 0.97)
	}
}
