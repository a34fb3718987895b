package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/rfm"
	"github.com/cvo-app/cvo/internal/scoring"
)

// KeepCustomerSnapshots is how many recent scorings keep their
// per-customer rows; older ones keep only their aggregates, so history stays
// visible while a million-customer shop's table stays bounded.
const KeepCustomerSnapshots = 14

// ScoringStore keeps scoring snapshots. A scoring becomes visible only
// when it succeeds, so a failed run never replaces the last good one.
//
// The scorings rows are ordinary rows and go through gorm. What stays on
// pgx fits the pgx half of the storage rule: Finish, whose per-customer
// rows are COPYed and whose run is marked succeeded and pruned in that same
// transaction (gorm cannot join a pgx transaction, and splitting it would
// let a run be succeeded without its customers); the customer_scores reads
// (EachGroup, Customers, ListCustomers), which stream many rows and search
// through hand-tuned indexes; and FailAbandoned, one statement whose
// pg_locks condition and RETURNING make the sweep atomic across shops.
type ScoringStore struct {
	db *DB
}

// scoringRow is a scorings row. Aggregates stay raw JSON here: they are
// decoded only by the readers that want them (decodeAggregates).
type scoringRow struct {
	ID         int64 `gorm:"primaryKey"`
	Shop       string
	Reason     string
	AsOf       time.Time
	StartedAt  time.Time
	FinishedAt *time.Time
	State      string
	Error      string
	Customers  int
	Aggregates []byte
}

func (scoringRow) TableName() string { return "scorings" }

func (r scoringRow) scoring() cvo.Scoring {
	return cvo.Scoring{ID: r.ID, Shop: r.Shop, Reason: r.Reason, AsOf: r.AsOf, StartedAt: r.StartedAt,
		FinishedAt: deref(r.FinishedAt), State: r.State, Error: r.Error, Customers: r.Customers}
}

// scoringInfoColumns are a scorings row without its aggregates, which can
// be large.
var scoringInfoColumns = []string{"id", "shop", "reason", "as_of", "started_at", "finished_at", "state", "error", "customers"}

// rescoreRequestRow is a rescore_requests row.
type rescoreRequestRow struct {
	Shop        string `gorm:"primaryKey"`
	RequestedAt time.Time
}

func (rescoreRequestRow) TableName() string { return "rescore_requests" }

// NewScoringStore returns the snapshot store.
func NewScoringStore(db *DB) *ScoringStore { return &ScoringStore{db: db} }

// Begin records a scoring run as running and returns its id.
func (s *ScoringStore) Begin(ctx context.Context, shop, reason string, asOf time.Time) (int64, error) {
	// The table's defaults start the run: state running, started now.
	row := scoringRow{Shop: shop, Reason: reason, AsOf: asOf}
	if err := s.db.Gorm.WithContext(ctx).Select("shop", "reason", "as_of").Create(&row).Error; err != nil {
		return 0, fmt.Errorf("begin scoring of %s: %w", shop, err)
	}
	return row.ID, nil
}

// Finish stores the customers and aggregates of a run and marks it
// succeeded, all in one transaction, then prunes old per-customer rows.
func (s *ScoringStore) Finish(ctx context.Context, shop string, id int64, scores []cvo.CustomerScore, aggregates *scoring.Aggregates) error {
	return s.FinishRows(ctx, shop, id, cvo.CustomerScores(scores), aggregates)
}

// ScoreRows are a run's per-customer rows, read one at a time.
type ScoreRows interface {
	Len() int
	Row(i int) cvo.CustomerScore
}

// FinishRows is Finish with rows the caller may make on demand: a
// million-customer rescore then holds its scores once, not also as a
// slice of rows (152 MB) made from them just before the write.
func (s *ScoringStore) FinishRows(ctx context.Context, shop string, id int64, scores ScoreRows, aggregates *scoring.Aggregates) error {
	agg, err := json.Marshal(aggregates)
	if err != nil {
		return fmt.Errorf("finish scoring %d of %s: encode aggregates: %w", id, shop, err)
	}
	tx, err := s.db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("finish scoring %d of %s: %w", id, shop, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	// Rows go in by descending predicted value, the order of the largest
	// index (customer_scores_by_value), whose entries are then appended
	// at its right edge instead of scattered over it; the group index
	// grows at one place per group. A million-customer snapshot is written
	// without the random page writes that dominated it otherwise.
	n := scores.Len()
	byValue := byPredictedValue(scores)
	i := 0
	// Every row is copied through one set of pgtype values the COPY
	// reads by pointer as it encodes the row, without copying them (a
	// pointer to a Go number or string is copied to the heap as it is
	// encoded): a slice of boxed values made for each row was a dozen
	// allocations a customer, 390 MB of garbage in a million-customer
	// write.
	var (
		cid                                    pgtype.Int8
		grp, churn                             pgtype.Text
		r, f, m                                pgtype.Int2
		orders                                 pgtype.Int4
		revenue, historical, predicted, pAlive pgtype.Float8
		expected, pWindow                      pgtype.Float8
		next                                   pgtype.Date
	)
	row := []any{shop, id, &cid, &grp, &r, &f, &m, &orders, &revenue, &historical,
		&predicted, &pAlive, &expected, &next, &pWindow, &churn}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"customer_scores"},
		[]string{"shop", "scoring_id", "customer_id", "grp", "r", "f", "m", "orders", "revenue", "historical_clv",
			"predicted_clv", "p_alive", "expected_orders", "next_order_at", "p_order_window", "churn_risk"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i >= n {
				return nil, nil
			}
			c := scores.Row(int(byValue[i]))
			i++
			v, err := strconv.ParseInt(c.CustomerID, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("customer id %q is not numeric", c.CustomerID)
			}
			cid = pgtype.Int8{Int64: v, Valid: true}
			grp, churn = pgtype.Text{String: c.Group, Valid: true}, pgtype.Text{String: c.ChurnRisk, Valid: true}
			r, f, m = pgtype.Int2{Int16: int16(c.R), Valid: true}, pgtype.Int2{Int16: int16(c.F), Valid: true}, pgtype.Int2{Int16: int16(c.M), Valid: true}
			orders = pgtype.Int4{Int32: int32(c.Orders), Valid: true}
			revenue, historical = pgtype.Float8{Float64: c.Revenue, Valid: true}, pgtype.Float8{Float64: c.HistoricalCLV, Valid: true}
			predicted, pAlive = pgtype.Float8{Float64: c.PredictedCLV, Valid: true}, pgtype.Float8{Float64: c.PAlive, Valid: true}
			expected, pWindow = pgtype.Float8{Float64: c.ExpectedOrders, Valid: true}, pgtype.Float8{Float64: c.POrderWindow, Valid: true}
			// The day as the row's time has it, in the shop's zone, as a
			// time.Time value was written; none is NULL.
			next = pgtype.Date{Time: c.NextOrderAt, Valid: !c.NextOrderAt.IsZero()}
			return row, nil
		}))
	if err != nil {
		return fmt.Errorf("finish scoring %d of %s: copy customers: %w", id, shop, err)
	}
	tag, err := tx.Exec(ctx, `UPDATE scorings SET state = 'succeeded', finished_at = now(), customers = $3, aggregates = $4
		WHERE shop = $1 AND id = $2 AND state = 'running'`, shop, id, n, agg)
	if err != nil {
		return fmt.Errorf("finish scoring %d of %s: %w", id, shop, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("finish scoring %d of %s: not a running scoring", id, shop)
	}
	if err := pruneSnapshots(ctx, tx, shop); err != nil {
		return fmt.Errorf("prune snapshots of %s: %w", shop, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("finish scoring %d of %s: %w", id, shop, err)
	}
	return nil
}

// byPredictedValue is the rows' positions by descending predicted value,
// ties in row order. The values are read once each: a row may be made on
// demand.
func byPredictedValue(scores ScoreRows) []int32 {
	byValue := make([]int32, scores.Len())
	value := make([]float64, scores.Len())
	for i := range byValue {
		byValue[i] = int32(i)
		value[i] = scores.Row(i).PredictedCLV
	}
	slices.SortFunc(byValue, func(a, b int32) int {
		if c := cmp.Compare(value[b], value[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return byValue
}

// pruneSnapshots deletes the rows of the shop's snapshots past the newest
// KeepCustomerSnapshots, whole snapshots found by their scoring ids. As
// one statement joining scorings, the plan guessed from statistics that
// lag a fresh snapshot and scanned every row of the shop's snapshots: 4.4
// s of writing a million-customer snapshot with 14 kept. A snapshot's
// rows went in together and its ids lead the key, so the key finds them
// in a few pages each (1.8 s); the planner, guessing a snapshot at a
// sixth of the table, would still scan it all.
func pruneSnapshots(ctx context.Context, tx pgx.Tx, shop string) error {
	var old []int64
	err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(id), '{}') FROM (SELECT id FROM scorings
		WHERE shop = $1 AND state = 'succeeded' ORDER BY id DESC OFFSET $2) o`, shop, KeepCustomerSnapshots).Scan(&old)
	if err != nil || len(old) == 0 {
		return err
	}
	// Nothing after this in the transaction reads a table.
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
		return err
	}
	// The ids are the shop's own; a filter on the shop as well would let
	// the planner walk the shop's index, every snapshot of it.
	_, err = tx.Exec(ctx, `DELETE FROM customer_scores WHERE scoring_id = ANY($1)`, old)
	return err
}

// Fail marks a run failed with a reason; the last good scoring stays current.
func (s *ScoringStore) Fail(ctx context.Context, shop string, id int64, reason string) error {
	err := s.db.Gorm.WithContext(ctx).Model(&scoringRow{}).Where("shop = ? AND id = ? AND state = 'running'", shop, id).
		Updates(failedScoring(reason)).Error
	if err != nil {
		return fmt.Errorf("fail scoring %d of %s: %w", id, shop, err)
	}
	return nil
}

// Latest returns the newest succeeded scoring and its aggregates.
func (s *ScoringStore) Latest(ctx context.Context, shop string) (cvo.Scoring, *scoring.Aggregates, error) {
	return s.nth(ctx, shop, 0)
}

// Previous returns the succeeded scoring before the latest, for movements.
func (s *ScoringStore) Previous(ctx context.Context, shop string) (cvo.Scoring, *scoring.Aggregates, error) {
	return s.nth(ctx, shop, 1)
}

func (s *ScoringStore) nth(ctx context.Context, shop string, n int) (cvo.Scoring, *scoring.Aggregates, error) {
	var row scoringRow
	err := s.db.Gorm.WithContext(ctx).Where("shop = ? AND state = 'succeeded'", shop).Order("id DESC").Offset(n).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return cvo.Scoring{Shop: shop}, nil, notScored()
	}
	if err != nil {
		return cvo.Scoring{Shop: shop}, nil, fmt.Errorf("read scoring of %s: %w", shop, err)
	}
	sc := row.scoring()
	a, err := decodeAggregates(row.Aggregates)
	if err != nil {
		return sc, nil, fmt.Errorf("read scoring %d of %s: %w", sc.ID, shop, err)
	}
	return sc, a, nil
}

// info reads the shop's newest run, or its newest succeeded one, without
// its aggregates.
func (s *ScoringStore) info(ctx context.Context, shop string, succeeded bool) (cvo.Scoring, error) {
	q := s.db.Gorm.WithContext(ctx).Select(scoringInfoColumns).Where("shop = ?", shop)
	if succeeded {
		q = q.Where("state = 'succeeded'")
	}
	var row scoringRow
	err := q.Order("id DESC").Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return cvo.Scoring{Shop: shop}, notScored()
	}
	if err != nil {
		return cvo.Scoring{Shop: shop}, err
	}
	return row.scoring(), nil
}

func notScored() error { return cvo.Errorf(cvo.ENOTFOUND, "The shop has not been scored yet.") }

// failedScoring is the update that fails a running scoring.
func failedScoring(reason string) map[string]any {
	return map[string]any{"state": "failed", "finished_at": gorm.Expr("now()"), "error": reason}
}

// LastRun returns the newest run in any state, for the page's status.
func (s *ScoringStore) LastRun(ctx context.Context, shop string) (cvo.Scoring, error) {
	sc, err := s.info(ctx, shop, false)
	if err != nil && cvo.ErrorCode(err) != cvo.ENOTFOUND {
		return sc, fmt.Errorf("read last scoring run of %s: %w", shop, err)
	}
	return sc, err
}

// EachGroup calls fn with each customer's ID and group in a scoring,
// skipping a group this version does not know. A rescore reads its
// previous scoring's groups straight into its ledger, a byte a customer:
// a map of them made first held a million-customer shop's 45 MiB beside
// the ledger as it was sized, and raised the collector's goal by as much
// through the read of the orders.
func (s *ScoringStore) EachGroup(ctx context.Context, shop string, scoringID int64, fn func(customerID int64, g rfm.Group)) error {
	rows, err := s.db.Pool.Query(ctx, `SELECT customer_id, grp FROM customer_scores WHERE shop = $1 AND scoring_id = $2`, shop, scoringID)
	if err != nil {
		return fmt.Errorf("read groups of %s: %w", shop, err)
	}
	defer rows.Close()
	var (
		id  int64
		grp []byte
	)
	for rows.Next() {
		if err := rows.Scan(&id, &grp); err != nil {
			return fmt.Errorf("read groups of %s: %w", shop, err)
		}
		if g, err := rfm.ParseGroup(string(grp)); err == nil {
			fn(id, g)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read groups of %s: %w", shop, err)
	}
	return nil
}

// Customers streams the per-customer rows of a scoring, ordered by customer.
func (s *ScoringStore) Customers(ctx context.Context, shop string, scoringID int64, fn func(cvo.CustomerScore) error) error {
	rows, err := s.db.Pool.Query(ctx, `SELECT customer_id, grp, r, f, m, orders, revenue, historical_clv, predicted_clv, p_alive,
			expected_orders, next_order_at, p_order_window, churn_risk FROM customer_scores WHERE shop = $1 AND scoring_id = $2 ORDER BY customer_id`, shop, scoringID)
	if err != nil {
		return fmt.Errorf("read scores of %s: %w", shop, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			c       cvo.CustomerScore
			id      int64
			r, f, m int16
			orders  int32
			next    *time.Time
		)
		if err := rows.Scan(&id, &c.Group, &r, &f, &m, &orders, &c.Revenue, &c.HistoricalCLV, &c.PredictedCLV, &c.PAlive,
			&c.ExpectedOrders, &next, &c.POrderWindow, &c.ChurnRisk); err != nil {
			return fmt.Errorf("read scores of %s: %w", shop, err)
		}
		c.CustomerID = strconv.FormatInt(id, 10)
		c.R, c.F, c.M, c.Orders, c.NextOrderAt = int(r), int(f), int(m), int(orders), deref(next)
		if err := fn(c); err != nil {
			return err
		}
	}
	return rows.Err()
}

// RequestRescore notes that new data arrived at.
func (s *ScoringStore) RequestRescore(ctx context.Context, shop string, at time.Time) error {
	// The newest request wins whatever order concurrent ones arrive in.
	err := s.db.Gorm.WithContext(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "shop"}},
		DoUpdates: clause.Assignments(map[string]any{
			"requested_at": gorm.Expr("GREATEST(rescore_requests.requested_at, excluded.requested_at)"),
		}),
	}).Create(&rescoreRequestRow{Shop: shop, RequestedAt: at}).Error
	if err != nil {
		return fmt.Errorf("request rescore of %s: %w", shop, err)
	}
	return nil
}

// RescoreRequestedAt is when new data last asked for a rescore (zero: never).
func (s *ScoringStore) RescoreRequestedAt(ctx context.Context, shop string) (time.Time, error) {
	var row rescoreRequestRow
	err := s.db.Gorm.WithContext(ctx).Where("shop = ?", shop).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read rescore request of %s: %w", shop, err)
	}
	return row.RequestedAt, nil
}

// LockRescore takes the shop's rescore lock: one rescore per shop at a
// time, across every worker process. The rescore's whole connection budget
// (RescoreConns) is reserved with it.
func (s *ScoringStore) LockRescore(ctx context.Context, shop string) (lock *ShopLock, ok bool, err error) {
	return s.db.tryShopLock(ctx, lockRescore, shop, RescoreConns)
}

// AbandonedReason is the failure recorded on a scoring whose worker died.
const AbandonedReason = "The scoring stopped when its worker died; it is being run again."

// FailRunning marks failed every run of the shop still running. The caller
// holds the shop's rescore lock, and advisory locks die with their session,
// so such a run can only belong to a worker that died.
func (s *ScoringStore) FailRunning(ctx context.Context, shop string) (int64, error) {
	res := s.db.Gorm.WithContext(ctx).Model(&scoringRow{}).Where("shop = ? AND state = 'running'", shop).
		Updates(failedScoring(AbandonedReason))
	if res.Error != nil {
		return 0, fmt.Errorf("fail abandoned scorings of %s: %w", shop, res.Error)
	}
	return res.RowsAffected, nil
}

// FailAbandoned marks failed every running scoring, of any shop, whose
// shop's rescore lock nobody holds (its worker died), and returns those
// runs (shop, id and reason) so their rescore can be queued again. A
// rescore takes the lock before it records its run, so a live run is never
// taken for dead.
func (s *ScoringStore) FailAbandoned(ctx context.Context) ([]cvo.Scoring, error) {
	rows, err := s.db.Pool.Query(ctx, `UPDATE scorings sc SET state = 'failed', finished_at = now(), error = $2
		WHERE sc.state = 'running' AND NOT `+shopLockHeld("$1", "sc.shop")+`
		RETURNING sc.shop, sc.id, sc.reason`, lockRescore, AbandonedReason)
	if err != nil {
		return nil, fmt.Errorf("fail abandoned scorings: %w", err)
	}
	runs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (cvo.Scoring, error) {
		var sc cvo.Scoring
		return sc, r.Scan(&sc.Shop, &sc.ID, &sc.Reason)
	})
	if err != nil {
		return nil, fmt.Errorf("fail abandoned scorings: %w", err)
	}
	return runs, nil
}

// CustomerQuery selects a page of a scoring's customers.
type CustomerQuery struct {
	Group  string // a group slug, or "" for all
	Search string // a prefix of the email, the name or the last name, or a customer id
	Limit  int
	Offset int
	// After starts the page after this customer of the list (not with a
	// Search, which it would not page): reading a whole group page by page
	// then reads each row about once, where offsets read every row before
	// the page again. Only within a tie of equal predicted values are the
	// tie's earlier rows read again, the customer id being no part of the
	// index's range.
	After   *ListingKey
	WantAll bool // count every match (the caller has no count of its own)
}

// ListingKey is a customer's place in the list: by predicted value, highest
// first, then by customer id.
type ListingKey struct {
	PredictedCLV float64
	CustomerID   int64
}

// CustomerListing is one line of the admin page's customer list.
type CustomerListing struct {
	cvo.CustomerScore
	Name  string
	Email string
}

// Key is the customer's place in the list, to read the page after it.
func (l *CustomerListing) Key() ListingKey {
	id, _ := strconv.ParseInt(l.CustomerID, 10, 64) // the list formats it from a bigint
	return ListingKey{PredictedCLV: l.PredictedCLV, CustomerID: id}
}

// maxSearchMatches bounds how many customers a search counts and pages
// through, so a one-letter search on a million customers stays fast.
const maxSearchMatches = 1000

// ListCustomers returns a page of a scoring's customers by predicted value,
// with the number of matches when it was asked for or when searching.
func (s *ScoringStore) ListCustomers(ctx context.Context, shop string, scoringID int64, q CustomerQuery) ([]CustomerListing, int, error) {
	if q.After != nil && q.Search != "" {
		return nil, 0, cvo.Errorf(cvo.EINVALID, "A search is not paged by a customer's place in the list.")
	}
	const cols = `cs.customer_id, cs.grp, cs.r, cs.f, cs.m, cs.orders, cs.revenue, cs.historical_clv, cs.predicted_clv, cs.p_alive,
		cs.expected_orders, cs.next_order_at, cs.p_order_window, cs.churn_risk, coalesce(c.first_name, ''), coalesce(c.last_name, ''), coalesce(c.email, '')`
	// scope selects the scoring's customers, or one group's with a query of
	// its own, so that the group's index is usable: "$3 = '' OR grp = $3"
	// could only filter.
	scope, scopeArgs := `shop = $1 AND scoring_id = $2 AND grp = $3`, []any{shop, scoringID, q.Group}
	if q.Group == "" {
		scope, scopeArgs = `shop = $1 AND scoring_id = $2`, scopeArgs[:2]
	}
	var (
		sql  string
		args []any
	)
	if q.Search == "" {
		// The page is cut from the scores alone, down the index that
		// matches its order, before anything is joined: a plan that
		// misjudges how many customers a scoring has (a new snapshot not
		// yet analyzed, a generic plan averaged over a fleet of small
		// shops) then still reads one page, not a million joined rows
		// sorted (7.3 s for the first page of 1M customers, 1.5 ms cut
		// first).
		where := scope
		args = slices.Clone(scopeArgs)
		if k := q.After; k != nil {
			// The first condition bounds the index scan; the second
			// skips the key's own value up to and including its customer.
			a, b := strconv.Itoa(len(args)+1), strconv.Itoa(len(args)+2)
			where += ` AND predicted_clv <= $` + a + ` AND (predicted_clv < $` + a + ` OR customer_id > $` + b + `)`
			args = append(args, k.PredictedCLV, k.CustomerID)
		}
		n := len(args)
		sql = `SELECT ` + cols + `, 0 FROM (SELECT * FROM customer_scores WHERE ` + where + `
				ORDER BY predicted_clv DESC, customer_id LIMIT $` + strconv.Itoa(n+1) + ` OFFSET $` + strconv.Itoa(n+2) + `) cs
			LEFT JOIN customers c ON c.shop = cs.shop AND c.id = cs.customer_id
			ORDER BY cs.predicted_clv DESC, cs.customer_id`
		args = append(args, q.Limit, q.Offset)
	} else {
		// Candidates come from the search indexes first; only they are
		// joined to the scores.
		// A prefix is searched as a byte-wise range, which the
		// text_pattern_ops indexes answer even under a generic plan of
		// the prepared statement, where LIKE with a parameter cannot.
		lo, hi := prefixRange(q.Search)
		id, _ := strconv.ParseInt(q.Search, 10, 64)
		sql = `WITH candidates AS (
				(SELECT id FROM customers WHERE shop = $1 AND lower(email) ~>=~ $4 AND lower(email) ~<~ $9 LIMIT $7)
				UNION (SELECT id FROM customers WHERE shop = $1 AND lower(coalesce(first_name, '') || ' ' || coalesce(last_name, '')) ~>=~ $4
					AND lower(coalesce(first_name, '') || ' ' || coalesce(last_name, '')) ~<~ $9 LIMIT $7)
				UNION (SELECT id FROM customers WHERE shop = $1 AND lower(last_name) ~>=~ $4 AND lower(last_name) ~<~ $9 LIMIT $7)
				UNION (SELECT $5::bigint WHERE $5::bigint > 0)
			), matched AS (
				SELECT ` + cols + ` FROM candidates k
				JOIN customer_scores cs ON cs.shop = $1 AND cs.scoring_id = $2 AND cs.customer_id = k.id
				LEFT JOIN customers c ON c.shop = cs.shop AND c.id = cs.customer_id
				WHERE ($3 = '' OR cs.grp = $3)
			)
			SELECT *, count(*) OVER () FROM matched ORDER BY predicted_clv DESC, customer_id LIMIT $6 OFFSET $8`
		args = []any{shop, scoringID, q.Group, lo, id, q.Limit, maxSearchMatches, q.Offset, hi}
	}
	rows, err := s.db.Pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list customers of %s: %w", shop, err)
	}
	defer rows.Close()
	var (
		out   []CustomerListing
		total int
	)
	for rows.Next() {
		var (
			l                  CustomerListing
			id                 int64
			r, f, m            int16
			orders             int32
			next               *time.Time
			first, last, email string
		)
		if err := rows.Scan(&id, &l.Group, &r, &f, &m, &orders, &l.Revenue, &l.HistoricalCLV, &l.PredictedCLV, &l.PAlive,
			&l.ExpectedOrders, &next, &l.POrderWindow, &l.ChurnRisk, &first, &last, &email, &total); err != nil {
			return nil, 0, fmt.Errorf("list customers of %s: %w", shop, err)
		}
		l.CustomerID = strconv.FormatInt(id, 10)
		l.R, l.F, l.M, l.Orders, l.NextOrderAt = int(r), int(f), int(m), int(orders), deref(next)
		l.Name, l.Email = strings.TrimSpace(first+" "+last), email
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list customers of %s: %w", shop, err)
	}
	if q.Search == "" && q.WantAll {
		err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM customer_scores WHERE `+scope, scopeArgs...).Scan(&total)
		if err != nil {
			return nil, 0, fmt.Errorf("count customers of %s: %w", shop, err)
		}
	}
	return out, total, nil
}

// prefixRange turns a search into the byte-wise range [lo, hi) of the
// lower-cased strings that start with it: UTF-8 keeps code point order, so
// bumping the last code point bounds every such string.
func prefixRange(search string) (lo, hi string) {
	lo = strings.ToLower(strings.TrimSpace(search))
	r := []rune(lo)
	if len(r) == 0 || r[len(r)-1] >= unicode.MaxRune {
		return lo, lo + string(unicode.MaxRune)
	}
	r[len(r)-1]++
	return lo, string(r)
}

// LatestInfo returns the newest succeeded scoring without its aggregates, for
// callers that cache those by scoring id.
func (s *ScoringStore) LatestInfo(ctx context.Context, shop string) (cvo.Scoring, error) {
	sc, err := s.info(ctx, shop, true)
	if err != nil && cvo.ErrorCode(err) != cvo.ENOTFOUND {
		return sc, fmt.Errorf("read scoring of %s: %w", shop, err)
	}
	return sc, err
}

// Aggregates returns the aggregates of one scoring.
func (s *ScoringStore) Aggregates(ctx context.Context, shop string, id int64) (*scoring.Aggregates, error) {
	var row scoringRow
	err := s.db.Gorm.WithContext(ctx).Select("aggregates").Where("shop = ? AND id = ?", shop, id).Take(&row).Error
	if err != nil {
		return nil, fmt.Errorf("read aggregates of %s: %w", shop, err)
	}
	agg, err := decodeAggregates(row.Aggregates)
	if err != nil {
		return nil, fmt.Errorf("read aggregates of %s: %w", shop, err)
	}
	return agg, nil
}

// decodeAggregates reads stored aggregates; a scoring finished without
// any (JSON null) has none.
func decodeAggregates(raw []byte) (*scoring.Aggregates, error) {
	var agg *scoring.Aggregates
	if len(raw) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal(raw, &agg); err != nil {
		return nil, fmt.Errorf("decode aggregates: %w", err)
	}
	return agg, nil
}

// ScoredCustomer is one customer of a scoring, for the customer screen.
type ScoredCustomer struct {
	CustomerListing
	ShopifyRFMGroup  string
	ShopifySpendTier string
}

// Customer returns one customer of a scoring; found is false when the shop
// has no such customer in it (another shop's customer included).
func (s *ScoringStore) Customer(ctx context.Context, shop string, scoringID, customerID int64) (ScoredCustomer, bool, error) {
	var (
		out                ScoredCustomer
		r, f, m            int16
		orders             int32
		next               *time.Time
		first, last, email string
	)
	err := s.db.Pool.QueryRow(ctx, `SELECT cs.grp, cs.r, cs.f, cs.m, cs.orders, cs.revenue, cs.historical_clv, cs.predicted_clv,
			cs.p_alive, cs.expected_orders, cs.next_order_at, cs.p_order_window, cs.churn_risk, coalesce(c.first_name, ''),
			coalesce(c.last_name, ''), coalesce(c.email, ''), coalesce(c.shopify_rfm_group, ''), coalesce(c.shopify_predicted_spend_tier, '')
		FROM customer_scores cs LEFT JOIN customers c ON c.shop = cs.shop AND c.id = cs.customer_id
		WHERE cs.shop = $1 AND cs.scoring_id = $2 AND cs.customer_id = $3`, shop, scoringID, customerID).Scan(
		&out.Group, &r, &f, &m, &orders, &out.Revenue, &out.HistoricalCLV, &out.PredictedCLV, &out.PAlive, &out.ExpectedOrders,
		&next, &out.POrderWindow, &out.ChurnRisk, &first, &last, &email, &out.ShopifyRFMGroup, &out.ShopifySpendTier)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, false, nil
	}
	if err != nil {
		return out, false, fmt.Errorf("read customer of %s: %w", shop, err)
	}
	out.CustomerID = strconv.FormatInt(customerID, 10)
	out.R, out.F, out.M, out.Orders, out.NextOrderAt = int(r), int(f), int(m), int(orders), deref(next)
	out.Name, out.Email = strings.TrimSpace(first+" "+last), email
	return out, true, nil
}

// GroupAt is a customer's group in one kept scoring.
type GroupAt struct {
	ScoringID int64
	AsOf      time.Time
	Group     string
	R, F, M   int
}

// CustomerHistory returns a customer's group in every succeeded scoring
// that still keeps its per-customer rows, oldest first. Each scoring is
// looked up by its primary key, so the cost does not grow with the shop.
func (s *ScoringStore) CustomerHistory(ctx context.Context, shop string, customerID int64) ([]GroupAt, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT s.id, s.as_of, cs.grp, cs.r, cs.f, cs.m
		FROM scorings s JOIN customer_scores cs ON cs.shop = s.shop AND cs.scoring_id = s.id AND cs.customer_id = $2
		WHERE s.shop = $1 AND s.state = 'succeeded' ORDER BY s.id`, shop, customerID)
	if err != nil {
		return nil, fmt.Errorf("read customer history of %s: %w", shop, err)
	}
	defer rows.Close()
	var out []GroupAt
	for rows.Next() {
		var (
			g       GroupAt
			r, f, m int16
		)
		if err := rows.Scan(&g.ScoringID, &g.AsOf, &g.Group, &r, &f, &m); err != nil {
			return nil, fmt.Errorf("read customer history of %s: %w", shop, err)
		}
		g.R, g.F, g.M = int(r), int(f), int(m)
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read customer history of %s: %w", shop, err)
	}
	return out, nil
}
