package scoring

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cvo-app/cvo/internal/clv"
	"github.com/cvo-app/cvo/internal/ledger"
	"github.com/cvo-app/cvo/internal/parallel"
)

// OrderColumns are the columns ReadOrdersCSV needs, found by header name.
var OrderColumns = []string{"customer_id", "order_id", "created_at", "total"}

// RowError is a CSV row that was skipped, with its line number.
type RowError struct {
	Line int
	Err  error
}

func (e RowError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// CSVOrders is what ReadOrdersCSV found in a file.
type CSVOrders struct {
	Orders *ledger.Ledger
	// Rows counts the data rows, usable or not; Bad lists the skipped
	// ones in file order.
	Rows int
	Bad  []RowError
	// Last is the latest created_at of a usable row.
	Last time.Time
}

// ErrNoUsableRows means a file had no row that could be scored.
var ErrNoUsableRows = errors.New("no usable order rows")

// orderColumns are the positions of OrderColumns in a header.
type orderColumns struct {
	customer, order, created, total int
	width                           int // fields a row needs to reach them all
}

// ReadOrdersCSV reads orders from a CSV file with a header row. The
// columns customer_id, order_id, created_at and total are found by name
// (case-insensitive; others are ignored, in any order). created_at is RFC
// 3339 or YYYY-MM-DD (midnight in loc); total is the order value, a
// non-negative decimal number. Rows that share an order_id are one order
// (exports with a row per line item) whose total is their sum. Bad rows
// are skipped and listed; a file without a usable row is an error.
func ReadOrdersCSV(r io.Reader, loc *time.Location) (CSVOrders, error) {
	if loc == nil {
		loc = time.UTC
	}
	br := bufio.NewReaderSize(r, 1<<20)
	rows := estimateRows(r, br)
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	var out CSVOrders
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return out, fmt.Errorf("%w: the file is empty", ErrNoUsableRows)
	}
	if err != nil {
		return out, fmt.Errorf("read header: %w", err)
	}
	cols, err := findOrderColumns(header)
	if err != nil {
		return out, err
	}
	// Reading and parsing the records runs on one core while the ledger
	// is filled on another, in file order.
	batches := make(chan []csvItem, 4)
	done := make(chan struct{})
	defer close(done)
	parsed := goSafe(func() error { return parseRecords(cr, cols, loc, batches, done) })

	// The ledger is filled straight from the parsed rows: a row costs no
	// allocation unless its customer or order ID is new, and then only a
	// copy into a shared block.
	b := ledger.NewBuilder(rows)
	// byOrderID maps an order_id to the order's position in the ledger,
	// decimal IDs by value (no copy, an 8-byte key). Sized for half the
	// rows: exports with a row per line item have fewer orders than rows,
	// and an overestimated hint is memory taken at once.
	byOrderID := ledger.NewIDIndex(rows / 2)
	for batch := range batches {
		for i := range batch {
			item := &batch[i]
			out.Rows++
			if item.bad != nil {
				out.Bad = append(out.Bad, RowError{Line: item.line, Err: item.bad})
				continue
			}
			row := &item.row
			if row.id != "" {
				if i, seen := byOrderID.Get(row.id); seen {
					if prev := b.CustomerOf(int(i)); prev != row.customer {
						out.Bad = append(out.Bad, RowError{Line: item.line, Err: fmt.Errorf("order_id %q belongs to customer %q on an earlier line, not %q", row.id, prev, row.customer)})
						continue
					}
					b.AddToTotal(int(i), row.total)
					continue
				}
				byOrderID.Put(row.id, int32(b.Len()))
			}
			b.AddPlain(row.customer, row.created, row.total)
		}
	}
	// The rows before a read error (or a panic) were taken, as they came.
	if err := parsed(); err != nil {
		return out, err
	}
	out.Orders = b.Ledger()
	out.Last = out.Orders.Latest()
	if out.Orders.Len() == 0 {
		if out.Rows == 0 {
			return out, fmt.Errorf("%w: the file has a header but no rows", ErrNoUsableRows)
		}
		return out, fmt.Errorf("%w: all %d rows are bad", ErrNoUsableRows, out.Rows)
	}
	return out, nil
}

// csvItem is one data row as read and parsed: a usable row or a bad one.
type csvItem struct {
	row  orderRow
	line int
	bad  error
}

// csvBatch is how many rows go to the ledger's filling at once.
const csvBatch = 4096

// parseRecords reads and parses cr's data rows into batches, in file
// order, until the file ends, an error ends it (returned after the rows
// before it), or done closes. The rows' strings share the record's line,
// a string of its own the reader never reuses.
func parseRecords(cr *csv.Reader, cols orderColumns, loc *time.Location, batches chan<- []csvItem, done <-chan struct{}) error {
	defer close(batches)
	batch := make([]csvItem, 0, csvBatch)
	send := func() bool {
		select {
		case batches <- batch:
			batch = make([]csvItem, 0, csvBatch)
			return true
		case <-done:
			return false
		}
	}
	last := 1 // the header's line, then the last record's
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		item := csvItem{}
		var pe *csv.ParseError
		switch {
		case err == nil:
			// FieldPos knows a record's position only when it was read.
			last, _ = cr.FieldPos(0)
			item.line = last
			item.row, item.bad = parseOrderRow(rec, cols, loc)
		case errors.As(err, &pe):
			last = pe.StartLine
			item.line, item.bad = pe.StartLine, pe.Err
		default:
			send()
			return fmt.Errorf("read line %d: %w", last+1, err)
		}
		batch = append(batch, item)
		if len(batch) == csvBatch && !send() {
			return nil
		}
	}
	if len(batch) > 0 {
		send()
	}
	return nil
}

// estimateRows guesses a file's rows from its size and the length of its
// first lines, so that the ledger and the order map are sized once
// instead of being copied as they grow. It returns 0 when r is not a file
// (a pipe, say).
func estimateRows(r io.Reader, br *bufio.Reader) int {
	f, ok := r.(interface{ Stat() (os.FileInfo, error) })
	if !ok {
		return 0
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() == 0 {
		return 0
	}
	head, _ := br.Peek(64 << 10)
	lines := bytes.Count(head, []byte{'\n'})
	if lines < 2 {
		return 0
	}
	// A few percent over, so that a slightly longer tail does not cost a
	// copy of the whole ledger; unused capacity is never touched.
	return int(min(st.Size()/int64(len(head))*int64(lines)*21/20, 1<<31-1))
}

func findOrderColumns(header []string) (orderColumns, error) {
	pos := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := pos[h]; !dup {
			pos[h] = i
		}
	}
	var missing []string
	at := func(name string) int {
		i, ok := pos[name]
		if !ok {
			missing = append(missing, name)
		}
		return i
	}
	c := orderColumns{customer: at("customer_id"), order: at("order_id"), created: at("created_at"), total: at("total")}
	if len(missing) > 0 {
		return c, fmt.Errorf("the header lacks column %s (it has %s; needed: %s)", strings.Join(missing, ", "),
			strings.Join(header, ","), strings.Join(OrderColumns, ","))
	}
	c.width = max(c.customer, c.order, c.created, c.total) + 1
	return c, nil
}

// orderRow is one CSV row; its strings share the reader's reused record.
type orderRow struct {
	id, customer string
	created      time.Time
	total        float64
}

// parseOrderRow reads one CSV record, with an error that names the column
// and quotes the value.
func parseOrderRow(rec []string, cols orderColumns, loc *time.Location) (orderRow, error) {
	if len(rec) < cols.width {
		return orderRow{}, fmt.Errorf("%d fields, the header needs at least %d", len(rec), cols.width)
	}
	customer := strings.TrimSpace(rec[cols.customer])
	if customer == "" {
		return orderRow{}, errors.New("customer_id is empty")
	}
	created, err := parseOrderTime(strings.TrimSpace(rec[cols.created]), loc)
	if err != nil {
		return orderRow{}, err
	}
	total, err := parseAmount(strings.TrimSpace(rec[cols.total]))
	if err != nil {
		return orderRow{}, err
	}
	return orderRow{id: strings.TrimSpace(rec[cols.order]), customer: customer, created: created, total: total}, nil
}

func parseOrderTime(v string, loc *time.Location) (time.Time, error) {
	var t time.Time
	var err error
	if len(v) == len(time.DateOnly) {
		t, err = time.ParseInLocation(time.DateOnly, v, loc)
	} else {
		t, err = time.Parse(time.RFC3339Nano, v)
	}
	switch {
	case err != nil:
		return time.Time{}, fmt.Errorf("created_at %q: not a date (want RFC 3339 or YYYY-MM-DD)", v)
	case t.Before(earliestOrderTime):
		// 0001-01-01, an export's placeholder for a missing date, would
		// otherwise count as a purchase made two thousand years ago.
		return time.Time{}, fmt.Errorf("created_at %q: before 1970, not the date of an order", v)
	}
	return t, nil
}

// earliestOrderTime is the earliest created_at a file's order may have.
var earliestOrderTime = time.Unix(0, 0)

func parseAmount(v string) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	switch {
	case err != nil || math.IsNaN(f) || math.IsInf(f, 0):
		return 0, fmt.Errorf("total %q: not a number", v)
	case f < 0:
		return 0, fmt.Errorf("total %q: negative", v)
	}
	return f, nil
}

// ScoreColumns are the leading columns of WriteScoresCSV, in order.
var ScoreColumns = []string{"customer_id", "orders", "frequency", "recency", "T", "monetary", "revenue",
	"r_score", "f_score", "m_score", "group", "p_alive", "expected_orders", "predicted_clv",
	"historical_clv", "gross_margin", "expected_order_value", "next_order_date", "first_order_date", "last_order_date",
	"p_order_window", "churn_risk"}

// WriteScoresCSV writes one row per customer, sorted by customer ID.
// Numbers have six decimals; dates are the shop's calendar days, and
// next_order_date is empty when a next order is less likely than not.
func WriteScoresCSV(w io.Writer, res *Result) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	cw := csv.NewWriter(bw)
	if err := cw.Write(ScoreColumns); err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	// The sort moves 24-byte (id, position) pairs, not positions into
	// 184-byte scores that each comparison would have to fetch.
	byID := make([]scoreRef, len(res.Customers))
	for i := range res.Customers {
		byID[i] = scoreRef{res.Customers[i].CustomerID, int32(i)}
	}
	slices.SortFunc(byID, func(a, b scoreRef) int { return cmp.Compare(a.id, b.id) })
	loc := res.Location()
	// Rows are formatted a block at a time on every core, and the blocks
	// written in order: the same bytes as one row after another, in about
	// half the time on two cores. A round formats one block per worker into
	// buffers the next round reuses, so memory stays a few blocks' worth.
	const block = 1 << 14
	cores := workers(len(byID))
	bufs := make([][]byte, cores)
	for lo := 0; lo < len(byID); lo += cores * block {
		hi := min(lo+cores*block, len(byID))
		parallel.Chunks(cores, cores, func(k, _, _ int) {
			from, to := min(lo+k*block, hi), min(lo+(k+1)*block, hi)
			bufs[k] = appendScoreRows(bufs[k][:0], res.Customers, byID[from:to], loc)
		})
		for _, b := range bufs {
			if _, err := bw.Write(b); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

// scoreRef is a customer's ID and position in Result.Customers.
type scoreRef struct {
	id string
	at int32
}

// appendScoreRows appends the rows of the given customers, as encoding/csv
// would write them: only the customer ID can need quoting (every other
// field is a number, a date or a fixed word), and a million rows then
// allocate nothing each, where twenty strings a row made most of the
// command's garbage.
func appendScoreRows(line []byte, customers []CustomerScore, refs []scoreRef, loc *time.Location) []byte {
	num := func(v float64) { line = append(strconv.AppendFloat(line, finite(v), 'f', 6, 64), ',') }
	integer := func(v int) { line = append(strconv.AppendInt(line, int64(v), 10), ',') }
	day := func(unix int64) { line = append(time.Unix(unix, 0).In(loc).AppendFormat(line, time.DateOnly), ',') }
	word := func(v string) { line = append(append(line, v...), ',') }
	for _, k := range refs {
		c := &customers[k.at]
		line = append(appendCSVField(line, c.CustomerID), ',')
		integer(int(c.Orders))
		integer(int(c.Frequency))
		num(c.Recency)
		num(c.T)
		num(c.Monetary)
		num(c.Revenue)
		integer(int(c.R))
		integer(int(c.F))
		integer(int(c.M))
		word(c.Group.Slug())
		num(c.PAlive)
		num(c.ExpectedOrders)
		num(c.PredictedCLV)
		num(c.HistoricalCLV)
		num(c.GrossMargin)
		num(c.ExpectedOrderValue)
		if c.HasNextOrder {
			day(c.NextOrder)
		} else {
			word("")
		}
		day(c.FirstOrder)
		day(c.LastOrder)
		num(c.POrderWindow)
		line = append(append(line, c.ChurnRisk.String()...), '\n')
	}
	return line
}

// appendCSVField appends a field as encoding/csv's Writer writes it with
// a comma and "\n" line ends: quoted, with its quotes doubled, when it
// holds a comma, a quote, a line break, starts with a space, or is `\.`.
func appendCSVField(dst []byte, field string) []byte {
	r, _ := utf8.DecodeRuneInString(field)
	if field != `\.` && !strings.ContainsAny(field, ",\"\r\n") && (field == "" || !unicode.IsSpace(r)) {
		return append(dst, field...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(field); i++ {
		if field[i] == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, field[i])
	}
	return append(dst, '"')
}

// Params is the model summary the CLI writes as params.json. The purchase
// model's parameters sit under its own name ("bgnbd" or "mbgnbd"); after a
// fallback there are none and "model" is "empirical".
type Params struct {
	Model          string          `json:"model"`
	RequestedModel string          `json:"requested_model"`
	Fallback       bool            `json:"fallback"`
	FallbackReason string          `json:"fallback_reason,omitempty"`
	TimeUnit       string          `json:"time_unit"`
	AsOf           string          `json:"as_of"`
	BGNBD          *PurchaseJSON   `json:"bgnbd,omitempty"`
	MBGNBD         *PurchaseJSON   `json:"mbgnbd,omitempty"`
	Empirical      *EmpiricalJSON  `json:"empirical,omitempty"`
	GammaGamma     *GammaGammaJSON `json:"gamma_gamma,omitempty"`
	SpendModel     string          `json:"spend_model"`
	SpendFallback  string          `json:"spend_fallback_reason,omitempty"`
	// MeanOrderValue is the spend fallback's population mean.
	MeanOrderValue        float64 `json:"mean_order_value,omitempty"`
	Customers             int     `json:"customers"`
	RepeatCustomers       int     `json:"repeat_customers"`
	ExpectedOrdersHorizon float64 `json:"expected_orders_horizon"`
	HorizonMonths         int     `json:"clv_horizon_months"`
	MonthlyDiscountRate   float64 `json:"monthly_discount_rate"`
	DefaultMarginRate     float64 `json:"default_margin_rate"`
	RFMLevels             [3]int  `json:"rfm_levels"`
	FitSeconds            float64 `json:"fit_seconds"`
	// Prediction is how p_order_window was chosen, calibrated and
	// backtested.
	Prediction *WindowPrediction `json:"prediction,omitempty"`
}

// PurchaseJSON holds BG/NBD or MBG/NBD parameters.
type PurchaseJSON struct {
	R             float64 `json:"r"`
	Alpha         float64 `json:"alpha"`
	A             float64 `json:"a"`
	B             float64 `json:"b"`
	LogLikelihood float64 `json:"log_likelihood"`
}

// EmpiricalJSON holds the fallback purchase model.
type EmpiricalJSON struct {
	RepeatRate float64 `json:"repeat_rate"`
	MeanGap    float64 `json:"mean_gap"`
}

// GammaGammaJSON holds the spend model's parameters.
type GammaGammaJSON struct {
	P             float64 `json:"p"`
	Q             float64 `json:"q"`
	Gamma         float64 `json:"gamma"`
	LogLikelihood float64 `json:"log_likelihood"`
}

// NewParams summarizes a result's models.
func NewParams(res *Result) Params {
	m := res.Model
	p := Params{
		Model:                 m.Used,
		RequestedModel:        m.Requested,
		Fallback:              m.Fallback,
		FallbackReason:        m.Reason,
		TimeUnit:              strings.TrimSuffix(m.Unit, "s"),
		AsOf:                  res.AsOf.Format(time.DateOnly),
		SpendModel:            m.Spend.Model,
		SpendFallback:         m.Spend.Reason,
		Customers:             m.Customers,
		RepeatCustomers:       m.RepeatCustomers,
		ExpectedOrdersHorizon: res.Parameters.ExpectedOrdersHorizon,
		HorizonMonths:         res.Parameters.HorizonMonths,
		MonthlyDiscountRate:   res.Parameters.MonthlyDiscountRate,
		DefaultMarginRate:     res.Parameters.DefaultMarginRate,
		RFMLevels:             [3]int{res.RFM.R.Levels, res.RFM.F.Levels, res.RFM.M.Levels},
	}
	p.AsOf = res.AsOf.In(res.Location()).Format(time.DateOnly)
	p.Prediction = res.Prediction
	for _, t := range res.Timings {
		if t.Phase == "fit and predict" {
			p.FitSeconds = t.Seconds
		}
	}
	if pp := m.Purchase; pp != nil {
		j := &PurchaseJSON{R: pp.R, Alpha: pp.Alpha, A: pp.A, B: pp.B, LogLikelihood: pp.LogLikelihood}
		if m.Used == string(clv.ModelBGNBD) {
			p.BGNBD = j
		} else {
			p.MBGNBD = j
		}
	}
	if e := m.Empirical; e != nil {
		p.Empirical = &EmpiricalJSON{RepeatRate: e.RepeatRate, MeanGap: e.MeanGap}
	}
	if m.Spend.Model == "gammagamma" {
		p.GammaGamma = &GammaGammaJSON{P: m.Spend.P, Q: m.Spend.Q, Gamma: m.Spend.Gamma, LogLikelihood: m.Spend.LogLikelihood}
	} else {
		p.MeanOrderValue = m.Spend.PopulationMean
	}
	return p
}

// WriteParamsJSON writes NewParams(res), indented.
func WriteParamsJSON(w io.Writer, res *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(NewParams(res))
}
