package scoring

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/clv"
	"github.com/cvo-app/cvo/internal/rfm"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func readCSVFile(t *testing.T, name string) (CSVOrders, error) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	require.NoError(t, err)
	defer f.Close()
	return ReadOrdersCSV(f, time.UTC)
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	assert.Equal(t, string(want), string(got), "differs from %s (go test -update rewrites it)", path)
}

// The small hand-made shop has too few repeat customers for a BTYD fit, so
// its golden scores pin down the empirical fallback, same-day merging and
// line-item rows; the generated shop of a few hundred customers is fitted
// with MBG/NBD in days and BG/NBD in weeks.
func TestGoldenScores(t *testing.T) {
	for _, tc := range []struct {
		orders, golden string
		unit           clv.TimeUnit
		model          clv.ModelKind
		fallback       bool
		customers      int
	}{
		{"small_orders.csv", "small_scores.csv", clv.Days, clv.ModelMBGNBD, true, 10},
		{"synth_orders.csv", "synth_scores_mbgnbd_days.csv", clv.Days, clv.ModelMBGNBD, false, 398},
		{"synth_orders.csv", "synth_scores_bgnbd_weeks.csv", clv.Weeks, clv.ModelBGNBD, false, 398},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			if _, err := os.Stat(filepath.Join("testdata", tc.orders)); os.IsNotExist(err) && *update {
				writeSynthOrdersCSV(t)
			}
			in, err := readCSVFile(t, tc.orders)
			require.NoError(t, err)
			require.Empty(t, in.Bad)
			s := DefaultSettings(time.Date(2023, 12, 31, 23, 59, 59, 0, time.UTC))
			s.Unit = tc.unit
			s.Model = tc.model
			res, err := ScoreLedger(t.Context(), in.Orders, s)
			require.NoError(t, err)
			assert.Equal(t, tc.fallback, res.Model.Fallback, res.Model.Reason)
			if !tc.fallback {
				assert.Equal(t, string(tc.model), res.Model.Used)
			}
			assert.Equal(t, tc.customers, res.Totals.Customers)
			var buf bytes.Buffer
			require.NoError(t, WriteScoresCSV(&buf, res))
			golden(t, tc.golden, buf.Bytes())
		})
	}
}

func TestSmallShopMergesLineItemRowsAndSameDayOrders(t *testing.T) {
	in, err := readCSVFile(t, "small_orders.csv")
	require.NoError(t, err)
	require.Equal(t, 22, in.Orders.Len(), "G2 appears twice and is one order")
	res, err := ScoreLedger(t.Context(), in.Orders, DefaultSettings(time.Date(2023, 12, 31, 23, 59, 59, 0, time.UTC)))
	require.NoError(t, err)
	byID := map[string]CustomerScore{}
	for _, c := range res.Customers {
		byID[c.CustomerID] = c
	}
	assert.NotContains(t, byID, "ken", "ordered after as-of")
	grace := byID["grace"]
	assert.Equal(t, int32(3), grace.Orders)
	assert.Equal(t, int32(2), grace.Frequency)
	assert.InDelta(t, (80.0+75)/2, grace.Monetary, 1e-9, "the two G2 rows are one order of 80")
	bob := byID["bob"]
	assert.Equal(t, int32(3), bob.Orders, "orders count every order")
	assert.Equal(t, int32(1), bob.Frequency, "but two on one day are one purchase")
	assert.InDelta(t, 40.0, bob.Monetary, 1e-9)
}

// writeSynthOrdersCSV creates testdata/synth_orders.csv when it is missing: 400 customers
// of the synthetic generator over two years, purchases only (a CSV cannot
// say that an order was cancelled or refunded).
func writeSynthOrdersCSV(t *testing.T) {
	_, orders := synthShop(400, time.Date(2023, 12, 31, 0, 0, 0, 0, time.UTC), 2, 77)
	var b strings.Builder
	b.WriteString("customer_id,order_id,created_at,total\n")
	for i, o := range orders {
		if !o.IsPurchase() {
			continue
		}
		id := strings.TrimPrefix(o.CustomerID, "gid://shopify/Customer/")
		fmt.Fprintf(&b, "%s,%d,%s,%.2f\n", id, 1000+i, o.CreatedAt.UTC().Format(time.RFC3339), o.Total)
	}
	require.NoError(t, os.WriteFile(filepath.Join("testdata", "synth_orders.csv"), []byte(b.String()), 0o644))
}

func TestReadOrdersCSVReportsBadRowsWithLineNumbers(t *testing.T) {
	in, err := readCSVFile(t, "bad_orders.csv")
	require.NoError(t, err)
	var got []string
	for _, e := range in.Bad {
		got = append(got, e.Error())
	}
	assert.Equal(t, []string{
		`line 3: created_at "2011-13-01": not a date (want RFC 3339 or YYYY-MM-DD)`,
		`line 4: customer_id is empty`,
		`line 5: total "-3": negative`,
		`line 6: total "NaN": not a number`,
		`line 7: total "abc": not a number`,
		`line 8: 3 fields, the header needs at least 4`,
		`line 11: created_at "yesterday": not a date (want RFC 3339 or YYYY-MM-DD)`,
		`line 12: order_id "o1" belongs to customer "u1" on an earlier line, not "u4"`,
		`line 16: created_at "0001-01-01": before 1970, not the date of an order`,
		`line 17: created_at "1969-12-31T23:59:59Z": before 1970, not the date of an order`,
	}, got)
	assert.Equal(t, 15, in.Rows, "the quoted field spanning two lines is one row")
	require.Equal(t, 5, in.Orders.Len())
	orders := in.Orders.Orders()
	customer := func(i int) string { return in.Orders.CustomerID(orders[i].Customer) }
	// Line 9's order_id is quoted and spans two lines: one row, one order.
	assert.Equal(t, "u3", customer(1))
	assert.Equal(t, 7.0, orders[1].Total)
	assert.Equal(t, time.Date(2024, 1, 4, 0, 0, 0, 0, time.UTC), in.Orders.Created(&orders[1]).UTC(), "the spanning row's own date")
	assert.Equal(t, 1000.0, orders[2].Total)
	assert.Equal(t, time.Date(2024, 1, 5, 15, 0, 0, 0, time.UTC), in.Orders.Created(&orders[2]).UTC())
	assert.Equal(t, time.Date(2024, 1, 6, 0, 0, 0, 0, time.UTC), in.Last)
	assert.Equal(t, "u5", customer(3))
	assert.Equal(t, "u5", customer(4), "rows without order_id are separate orders")
}

func TestReadOrdersCSVHandlesCRLF(t *testing.T) {
	in, err := readCSVFile(t, "crlf_orders.csv")
	require.NoError(t, err)
	require.Equal(t, 1, in.Orders.Len())
	require.Len(t, in.Bad, 1)
	assert.Equal(t, `line 3: created_at "2024-02-30": not a date (want RFC 3339 or YYYY-MM-DD)`, in.Bad[0].Error())
}

func TestReadOrdersCSVRejectsFilesWithoutUsableRows(t *testing.T) {
	for name, content := range map[string]string{
		"empty":          "",
		"header only":    "customer_id,order_id,created_at,total\n",
		"all rows bad":   "customer_id,order_id,created_at,total\nc,1,never,1\n,2,2020-01-01,1\n",
		"missing column": "customer_id,order_id,created_at,amount\nc,1,2020-01-01,1\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ReadOrdersCSV(strings.NewReader(content), nil)
			require.Error(t, err)
			if name == "missing column" {
				assert.Contains(t, err.Error(), "lacks column total")
			} else {
				assert.True(t, errors.Is(err, ErrNoUsableRows), err)
			}
		})
	}
}

func TestParamsJSONNamesTheModel(t *testing.T) {
	in, err := readCSVFile(t, "synth_orders.csv")
	require.NoError(t, err)
	for _, model := range []clv.ModelKind{clv.ModelMBGNBD, clv.ModelBGNBD} {
		s := DefaultSettings(time.Date(2023, 12, 31, 23, 59, 59, 0, time.UTC))
		s.Model = model
		res, err := ScoreLedger(t.Context(), in.Orders, s)
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, WriteParamsJSON(&buf, res))
		var p map[string]any
		require.NoError(t, json.Unmarshal(buf.Bytes(), &p))
		assert.Equal(t, string(model), p["model"])
		assert.Contains(t, p, string(model))
		params := p[string(model)].(map[string]any)
		for _, k := range []string{"r", "alpha", "a", "b", "log_likelihood"} {
			assert.Contains(t, params, k)
		}
		assert.Equal(t, "2023-12-31", p["as_of"])
	}
}

// FuzzReadOrdersCSV feeds arbitrary files to the reader: it must never
// panic, and whatever it accepts must be scoreable.
func FuzzReadOrdersCSV(f *testing.F) {
	for _, name := range []string{"small_orders.csv", "bad_orders.csv", "crlf_orders.csv"} {
		// synth_orders.csv is left out: large seeds slow every fuzz run.
		b, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte("customer_id,order_id,created_at,total\n\"a,1,2020-01-01,1\n"))
	f.Add([]byte("total,created_at,customer_id,order_id\n1e308,2020-01-01T00:00:00.123456789-23:59,x,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := ReadOrdersCSV(bytes.NewReader(data), time.UTC)
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, e := range in.Bad {
			if e.Line < 2 || e.Line > lines {
				t.Fatalf("bad row at line %d of a %d-line file", e.Line, lines)
			}
		}
		if err != nil {
			if in.Orders.Len() > 0 {
				t.Fatalf("error %v with %d orders", err, in.Orders.Len())
			}
			return
		}
		if in.Orders.Len() == 0 {
			t.Fatal("no error and no orders")
		}
		for _, o := range in.Orders.Orders() {
			if in.Orders.CustomerID(o.Customer) == "" || !(o.Total >= 0) || !isFinite(o.Total) || in.Orders.Created(&o).After(in.Last) {
				t.Fatalf("accepted a bad order %+v (last %v)", o, in.Last)
			}
		}
	})
}

// FuzzParseOrderRow checks the row parser alone: an accepted row has a
// customer, a finite non-negative total and a time that round-trips.
func FuzzParseOrderRow(f *testing.F) {
	f.Add("c1", "o1", "2024-01-05", "12.50")
	f.Add("c1", "o1", "2024-01-05T10:00:00+01:00", "0")
	f.Add(" ", "", "2011-13-01", "-1")
	f.Add("x", "y", "2024-02-29", "1e400")
	cols := orderColumns{customer: 0, order: 1, created: 2, total: 3, width: 4}
	f.Fuzz(func(t *testing.T, customer, order, created, total string) {
		o, err := parseOrderRow([]string{customer, order, created, total}, cols, time.UTC)
		if err != nil {
			if o.customer != "" {
				t.Fatal("an error with an order")
			}
			return
		}
		if o.customer == "" || strings.TrimSpace(o.customer) != o.customer {
			t.Fatalf("customer %q", o.customer)
		}
		if !(o.total >= 0) || !isFinite(o.total) {
			t.Fatalf("total %v from %q", o.total, total)
		}
		if o.created.IsZero() && strings.TrimSpace(created) != "0001-01-01" && !strings.HasPrefix(strings.TrimSpace(created), "0001-01-01T00:00:00") {
			t.Fatalf("zero time from %q", created)
		}
	})
}

// TestEstimateRowsFromTheFile: a file's rows are guessed from its size and
// first lines, a little over, so the ledger is sized once; a pipe gives no
// guess.
func TestEstimateRowsFromTheFile(t *testing.T) {
	path := filepath.Join("testdata", "synth_orders.csv")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	rows := bytes.Count(b, []byte("\n"))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	got := estimateRows(f, bufio.NewReaderSize(f, 1<<20))
	assert.GreaterOrEqual(t, got, rows*95/100)
	assert.LessOrEqual(t, got, rows*115/100)

	pipe := strings.NewReader(string(b))
	assert.Zero(t, estimateRows(pipe, bufio.NewReader(pipe)))
}

// TestReadOrdersCSVAcrossBatches: a file of many parse batches keeps
// every row, its bad rows in file order with their own line numbers, and
// merges rows of one order that fall in different batches.
func TestReadOrdersCSVAcrossBatches(t *testing.T) {
	var b strings.Builder
	// A first row of its own shifts the pairs of rows below by one, so
	// that the two rows of an order fall in two batches at each batch's
	// end.
	b.WriteString("customer_id,order_id,created_at,total\nfirst,first,2024-01-01,1\n")
	const rows = 3*csvBatch + 17
	var wantBad []int
	for i := range rows {
		line := i + 3
		switch {
		case i%997 == 5:
			fmt.Fprintf(&b, "c%d,o%d,not a date,1\n", i%500, i)
			wantBad = append(wantBad, line)
		case i%2 == 1:
			// The second row of the order of the row before: its total
			// adds to that order's, across a batch's end too.
			fmt.Fprintf(&b, "c%d,o%d,2024-01-%02d,2\n", (i-1)%500, i-1, 1+(i-1)%28)
		default:
			fmt.Fprintf(&b, "c%d,o%d,2024-01-%02d,1\n", i%500, i, 1+i%28)
		}
	}
	got, err := ReadOrdersCSV(strings.NewReader(b.String()), time.UTC)
	require.NoError(t, err)
	assert.Equal(t, rows+1, got.Rows)
	var gotBad []int
	for _, e := range got.Bad {
		gotBad = append(gotBad, e.Line)
	}
	assert.Equal(t, wantBad, gotBad)
	var total float64
	for _, o := range got.Orders.Orders() {
		total += o.Total
	}
	// Every good row counts 1 (an order's first) or 2 (its second row);
	// a second row whose first row was bad starts an order of its own.
	want, orders := 1.0, 1
	for i := range rows {
		if i%997 != 5 && (i%2 == 0 || (i-1)%997 == 5) {
			orders++
		}
	}
	assert.Equal(t, orders, got.Orders.Len(), "an order's rows make one order, wherever the batches end")
	for i := range rows {
		switch {
		case i%997 == 5:
		case i%2 == 1:
			want += 2
		default:
			want++
		}
	}
	assert.InDelta(t, want, total, 1e-9)
}

// failingReader fails after its text, as a broken disk or pipe would.
type failingReader struct{ r *strings.Reader }

func (f failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if errors.Is(err, io.EOF) {
		return n, errors.New("disk on fire")
	}
	return n, err
}

// TestReadOrdersCSVStopsAtAReadError: an error reading the file, not a
// bad row, ends the read with the error and its line.
func TestReadOrdersCSVStopsAtAReadError(t *testing.T) {
	var b strings.Builder
	b.WriteString("customer_id,order_id,created_at,total\n")
	for i := range 2*csvBatch + 3 {
		fmt.Fprintf(&b, "c%d,o%d,2024-01-01,1\n", i, i)
	}
	_, err := ReadOrdersCSV(failingReader{strings.NewReader(b.String())}, time.UTC)
	require.Error(t, err)
	assert.ErrorContains(t, err, "disk on fire")
	assert.ErrorContains(t, err, fmt.Sprintf("read line %d", 2*csvBatch+3+2))

	// Cut inside a quoted first field: the reader knows no position.
	_, err = ReadOrdersCSV(failingReader{strings.NewReader("customer_id,order_id,created_at,total\nc1,o1,2024-01-01,1\n\"c2")}, time.UTC)
	assert.ErrorContains(t, err, "read line 3: disk on fire")
}

// FuzzAppendCSVField holds the scores writer's field encoding to
// encoding/csv's: a customer ID from an outside file comes out exactly
// as csv.Writer would write it, so the file reads back to the same ID.
func FuzzAppendCSVField(f *testing.F) {
	for _, s := range []string{"", "c1", "a,b", `say "hi"`, "line\nbreak", "cr\rlf", " lead", "\tlead", `\.`, "\u00a0nbsp", "trail ", "é,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, field string) {
		var want bytes.Buffer
		cw := csv.NewWriter(&want)
		require.NoError(t, cw.Write([]string{field}))
		cw.Flush()
		got := append(appendCSVField(nil, field), '\n')
		require.Equal(t, want.String(), string(got))
	})
}

// TestScoresCSVInBlocksIsOneRowAfterAnother holds the block-parallel
// writer to the plain order: every customer once, sorted by ID, in rounds
// that end mid-block and mid-round.
func TestScoresCSVInBlocksIsOneRowAfterAnother(t *testing.T) {
	loc, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 16383, 16385, 3*16384 + 17, 200_001} {
		res := &Result{loc: loc, Customers: make([]CustomerScore, n)}
		for i := range res.Customers {
			c := &res.Customers[i]
			c.CustomerID = fmt.Sprint(rng.IntN(1 << 40))
			if i%1000 == 0 {
				c.CustomerID = fmt.Sprintf("a,\"%d", i) // needs quoting
			}
			c.Orders, c.Frequency = 1+rng.Int32N(9), rng.Int32N(8)
			c.Revenue, c.PAlive, c.POrderWindow = rng.Float64()*1000, rng.Float64(), rng.Float64()
			c.Group = rfm.Groups()[rng.IntN(len(rfm.Groups()))]
			c.FirstOrder = rng.Int64N(2e9)
			c.LastOrder = c.FirstOrder + int64(rng.IntN(1000))*3600
			if i%3 == 0 {
				c.NextOrder, c.HasNextOrder = time.Unix(c.LastOrder, 0).AddDate(0, 1, 0).Unix(), true
			}
			c.ChurnRisk = ChurnLow
		}
		refs := make([]scoreRef, n)
		for i := range refs {
			refs[i] = scoreRef{res.Customers[i].CustomerID, int32(i)}
		}
		slices.SortFunc(refs, func(a, b scoreRef) int { return cmp.Compare(a.id, b.id) })
		var want bytes.Buffer
		cw := csv.NewWriter(&want)
		require.NoError(t, cw.Write(ScoreColumns))
		cw.Flush()
		want.Write(appendScoreRows(nil, res.Customers, refs, loc))

		var got bytes.Buffer
		require.NoError(t, WriteScoresCSV(&got, res))
		require.Equal(t, n+1, bytes.Count(got.Bytes(), []byte("\n")), "%d customers", n)
		require.True(t, bytes.Equal(want.Bytes(), got.Bytes()), "%d customers: the output differs", n)
	}
}
