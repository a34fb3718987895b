package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// WritebackStore remembers what the app has written to each customer in
// Shopify (its tags and metafield values), so write-back sends only what
// changed and removes exactly its own stale tags. It also keeps the
// write-back's set-up per shop: metafield definitions, the tag prefixes
// used so far, and the customer segments the app owns.
type WritebackStore struct {
	db *DB
}

// NewWritebackStore returns the write-back store.
func NewWritebackStore(db *DB) *WritebackStore { return &WritebackStore{db: db} }

// Lock takes the shop's write-back lock: one write-back per shop at a
// time, across every worker process. The write-back's whole connection
// budget (WritebackConns) is reserved with it. ok is false when another
// worker holds it.
func (s *WritebackStore) Lock(ctx context.Context, shop string) (lock *ShopLock, ok bool, err error) {
	lock, ok, err = s.db.tryShopLock(ctx, lockWriteback, shop, WritebackConns)
	if err != nil {
		return nil, false, fmt.Errorf("write-back %w", err)
	}
	return lock, ok, nil
}

// Writeback is what the app has written to one customer.
type Writeback struct {
	CustomerID int64
	Tags       []string
	// Metafields maps metafield keys (in the app's namespace) to the
	// values last written.
	Metafields map[string]string
}

// Empty reports whether nothing of the app's is on the customer.
func (w Writeback) Empty() bool { return len(w.Tags) == 0 && len(w.Metafields) == 0 }

// scanPage is how many rows Scan reads at a time.
const scanPage = 2000

// Scan calls fn for each of the shop's rows in customer id order, a page
// at a time, so a million-customer shop never sits in memory and no
// connection is held while fn runs (it may use the store, or wait on
// Shopify). Without metafields the Metafields maps are nil.
func (s *WritebackStore) Scan(ctx context.Context, shop string, withMetafields bool, fn func(Writeback) error) error {
	q := `SELECT customer_id, tags, NULL::jsonb FROM customer_writeback WHERE shop = $1 AND customer_id > $2
		ORDER BY customer_id LIMIT $3`
	if withMetafields {
		q = `SELECT customer_id, tags, metafields FROM customer_writeback WHERE shop = $1 AND customer_id > $2
			ORDER BY customer_id LIMIT $3`
	}
	page := make([]Writeback, 0, scanPage)
	for after := int64(math.MinInt64); ; after = page[len(page)-1].CustomerID {
		rows, err := s.db.Pool.Query(ctx, q, shop, after, scanPage)
		if err != nil {
			return fmt.Errorf("scan write-back of %s: %w", shop, err)
		}
		page, err = pgx.AppendRows(page[:0], rows, func(r pgx.CollectableRow) (Writeback, error) {
			var (
				w   Writeback
				raw []byte
			)
			if err := r.Scan(&w.CustomerID, &w.Tags, &raw); err != nil {
				return w, err
			}
			switch {
			case raw == nil:
			case string(raw) == "{}":
				w.Metafields = map[string]string{}
			default:
				if err := json.Unmarshal(raw, &w.Metafields); err != nil {
					return w, fmt.Errorf("customer %d metafields: %w", w.CustomerID, err)
				}
			}
			return w, nil
		})
		if err != nil {
			return fmt.Errorf("scan write-back of %s: %w", shop, err)
		}
		for _, w := range page {
			if err := fn(w); err != nil {
				return err
			}
		}
		if len(page) < scanPage {
			return nil
		}
	}
}

// columnValues are tags and metafields as their NOT NULL columns take them.
func columnValues(tags []string, mf map[string]string) ([]string, []byte, error) {
	if tags == nil {
		tags = []string{}
	}
	if mf == nil {
		mf = map[string]string{}
	}
	raw, err := json.Marshal(mf)
	return tags, raw, err
}

// Get returns one customer's row; ok is false when the app wrote nothing.
func (s *WritebackStore) Get(ctx context.Context, shop string, customerID int64) (Writeback, bool, error) {
	w := Writeback{CustomerID: customerID}
	var raw []byte
	err := s.db.Pool.QueryRow(ctx, `SELECT tags, metafields FROM customer_writeback WHERE shop = $1 AND customer_id = $2`,
		shop, customerID).Scan(&w.Tags, &raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return w, false, nil
	}
	if err != nil {
		return w, false, fmt.Errorf("get write-back of customer %d in %s: %w", customerID, shop, err)
	}
	if err := json.Unmarshal(raw, &w.Metafields); err != nil {
		return w, false, fmt.Errorf("get write-back of customer %d in %s: metafields: %w", customerID, shop, err)
	}
	return w, true, nil
}

// Save stores rows as the new truth for their customers, in one
// transaction; an Empty row deletes the customer's row.
func (s *WritebackStore) Save(ctx context.Context, shop string, rows []Writeback) error {
	if len(rows) == 0 {
		return nil
	}
	// The last row given for a customer wins.
	last := make(map[int64]int, len(rows))
	for i, r := range rows {
		last[r.CustomerID] = i
	}
	var keep []Writeback
	var drop []int64
	for i, r := range rows {
		if last[r.CustomerID] != i {
			continue
		}
		if r.Empty() {
			drop = append(drop, r.CustomerID)
		} else {
			keep = append(keep, r)
		}
	}
	tx, err := s.db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("save write-back of %s: %w", shop, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if len(drop) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM customer_writeback WHERE shop = $1 AND customer_id = ANY($2)`, shop, drop); err != nil {
			return fmt.Errorf("save write-back of %s: delete: %w", shop, err)
		}
	}
	if len(keep) > 0 {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE writeback_in (customer_id bigint, tags text[], metafields jsonb) ON COMMIT DROP`); err != nil {
			return fmt.Errorf("save write-back of %s: %w", shop, err)
		}
		i := 0
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"writeback_in"}, []string{"customer_id", "tags", "metafields"},
			pgx.CopyFromFunc(func() ([]any, error) {
				if i >= len(keep) {
					return nil, nil
				}
				r := keep[i]
				i++
				tags, raw, err := columnValues(r.Tags, r.Metafields)
				if err != nil {
					return nil, err
				}
				return []any{r.CustomerID, tags, raw}, nil
			}))
		if err != nil {
			return fmt.Errorf("save write-back of %s: copy: %w", shop, err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO customer_writeback (shop, customer_id, tags, metafields, written_at)
			SELECT $1, customer_id, tags, metafields, now() FROM writeback_in
			ON CONFLICT (shop, customer_id) DO UPDATE
			SET tags = EXCLUDED.tags, metafields = EXCLUDED.metafields, written_at = EXCLUDED.written_at`, shop)
		if err != nil {
			return fmt.Errorf("save write-back of %s: upsert: %w", shop, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("save write-back of %s: commit: %w", shop, err)
	}
	return nil
}

// DeleteCustomers forgets what was written to customers that are gone
// (customers/delete, customers/redact).
func (s *WritebackStore) DeleteCustomers(ctx context.Context, shop string, ids []int64) error {
	if _, err := s.db.Pool.Exec(ctx, `DELETE FROM customer_writeback WHERE shop = $1 AND customer_id = ANY($2)`, shop, ids); err != nil {
		return fmt.Errorf("delete write-back of %d customers in %s: %w", len(ids), shop, err)
	}
	return nil
}

// DeleteShop forgets everything written to a shop (shop/redact).
func (s *WritebackStore) DeleteShop(ctx context.Context, shop string) error {
	for _, table := range []string{"writeback_bulk_batches", "writeback_bulk_lines", "customer_writeback", "activation_segments", "activation_setup"} {
		if _, err := s.db.Pool.Exec(ctx, `DELETE FROM `+table+` WHERE shop = $1`, shop); err != nil {
			return fmt.Errorf("delete %s of %s: %w", table, shop, err)
		}
	}
	return nil
}

// Count returns how many customers carry something of the app's.
func (s *WritebackStore) Count(ctx context.Context, shop string) (int, error) {
	var n int
	if err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM customer_writeback WHERE shop = $1`, shop).Scan(&n); err != nil {
		return 0, fmt.Errorf("count write-back of %s: %w", shop, err)
	}
	return n, nil
}

// ---- set-up -----------------------------------------------------------------

// WritebackSetup is what the write-back has set up in a shop.
type WritebackSetup struct {
	// DefinitionsVersion is the version of the metafield definitions
	// created; 0 = none yet.
	DefinitionsVersion int
	// TagPrefixes lists every prefix the app has written tags with.
	TagPrefixes []string
	LastRunAt   time.Time
	// LastReport is the last write-back's report as JSON; nil before the first.
	LastReport json.RawMessage
}

// activationSetupRow is a shop's write-back set-up, an ordinary row read
// and written through gorm (AddTagPrefix, a conditional append to an
// array, stays one SQL statement).
type activationSetupRow struct {
	Shop               string `gorm:"primaryKey"`
	DefinitionsVersion int
	TagPrefixes        textArray
	LastRunAt          *time.Time
	LastReport         []byte `gorm:"type:jsonb"`
	UpdatedAt          time.Time
}

func (activationSetupRow) TableName() string { return "activation_setup" }

// saveSetupColumns inserts the shop's set-up row with the given values, or
// updates only the named columns of the existing one.
func (s *WritebackStore) saveSetupColumns(ctx context.Context, row activationSetupRow, columns ...string) error {
	if row.TagPrefixes == nil {
		row.TagPrefixes = textArray{} // NOT NULL; a new row has written no prefix yet
	}
	row.UpdatedAt = time.Now()
	return s.db.Gorm.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "shop"}},
		DoUpdates: clause.AssignmentColumns(append(columns, "updated_at")),
	}).Create(&row).Error
}

// Setup returns the shop's set-up; the zero value when nothing was set up.
func (s *WritebackStore) Setup(ctx context.Context, shop string) (WritebackSetup, error) {
	var row activationSetupRow
	err := s.db.Gorm.WithContext(ctx).Where("shop = ?", shop).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return WritebackSetup{}, nil
	}
	if err != nil {
		return WritebackSetup{}, fmt.Errorf("get write-back set-up of %s: %w", shop, err)
	}
	out := WritebackSetup{DefinitionsVersion: row.DefinitionsVersion, TagPrefixes: row.TagPrefixes, LastReport: row.LastReport}
	if out.TagPrefixes == nil {
		out.TagPrefixes = []string{}
	}
	if row.LastRunAt != nil {
		out.LastRunAt = *row.LastRunAt
	}
	return out, nil
}

// SaveDefinitionsVersion records that the definitions of version v exist.
func (s *WritebackStore) SaveDefinitionsVersion(ctx context.Context, shop string, v int) error {
	if err := s.saveSetupColumns(ctx, activationSetupRow{Shop: shop, DefinitionsVersion: v}, "definitions_version"); err != nil {
		return fmt.Errorf("save definitions version of %s: %w", shop, err)
	}
	return nil
}

// AddTagPrefix records that tags are written with prefix.
func (s *WritebackStore) AddTagPrefix(ctx context.Context, shop, prefix string) error {
	_, err := s.db.Pool.Exec(ctx, `INSERT INTO activation_setup (shop, tag_prefixes) VALUES ($1, ARRAY[$2::text])
		ON CONFLICT (shop) DO UPDATE SET tag_prefixes = activation_setup.tag_prefixes || $2::text, updated_at = now()
		WHERE NOT $2::text = ANY(activation_setup.tag_prefixes)`, shop, prefix)
	if err != nil {
		return fmt.Errorf("add tag prefix of %s: %w", shop, err)
	}
	return nil
}

// SaveReport records the last write-back run.
func (s *WritebackStore) SaveReport(ctx context.Context, shop string, at time.Time, report any) error {
	raw, err := json.Marshal(report)
	if err != nil {
		return fmt.Errorf("save write-back report of %s: %w", shop, err)
	}
	if err := s.saveSetupColumns(ctx, activationSetupRow{Shop: shop, LastRunAt: &at, LastReport: raw}, "last_run_at", "last_report"); err != nil {
		return fmt.Errorf("save write-back report of %s: %w", shop, err)
	}
	return nil
}

// SegmentRecord is a Shopify customer segment the app owns for a group.
type SegmentRecord struct {
	Group     string // the group's slug
	SegmentID int64  // numeric part of gid://shopify/Segment/{id}
	Name      string
	Query     string
	UpdatedAt time.Time
}

// segmentRow is a segment the app owns, an ordinary row through gorm.
type segmentRow struct {
	Shop      string `gorm:"primaryKey"`
	Grp       string `gorm:"primaryKey"`
	SegmentID int64
	Name      string
	Query     string
	UpdatedAt time.Time
}

func (segmentRow) TableName() string { return "activation_segments" }

// Segments lists the shop's segments by group slug.
func (s *WritebackStore) Segments(ctx context.Context, shop string) ([]SegmentRecord, error) {
	var rows []segmentRow
	if err := s.db.Gorm.WithContext(ctx).Where("shop = ?", shop).Order("grp").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list segments of %s: %w", shop, err)
	}
	out := make([]SegmentRecord, len(rows))
	for i, r := range rows {
		out[i] = SegmentRecord{Group: r.Grp, SegmentID: r.SegmentID, Name: r.Name, Query: r.Query, UpdatedAt: r.UpdatedAt}
	}
	return out, nil
}

// SaveSegment stores the segment owned for rec.Group.
func (s *WritebackStore) SaveSegment(ctx context.Context, shop string, rec SegmentRecord) error {
	row := segmentRow{Shop: shop, Grp: rec.Group, SegmentID: rec.SegmentID, Name: rec.Name, Query: rec.Query, UpdatedAt: time.Now()}
	err := s.db.Gorm.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "shop"}, {Name: "grp"}},
		DoUpdates: clause.AssignmentColumns([]string{"segment_id", "name", "query", "updated_at"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("save segment %s of %s: %w", rec.Group, shop, err)
	}
	return nil
}

// ---- bulk batches ----------------------------------------------------------

// Bulk mutation kinds, by the mutation field each line runs.
const (
	BulkTagsRemove = "tagsRemove"
	BulkTagsAdd    = "tagsAdd"
	BulkMetafields = "metafieldsSet"
	// BulkMetafieldsDelete lines delete the metafields whose keys they
	// hold (BulkLine.Keys).
	BulkMetafieldsDelete = "metafieldsDelete"
)

// BulkBatch is one bulk mutation operation of a write-back, from before
// its file is staged until its results are recorded.
type BulkBatch struct {
	ID   int64
	Kind string // BulkTagsRemove, BulkTagsAdd, BulkMetafields or BulkMetafieldsDelete
	// Marker is the unique token in the operation name of the batch's
	// mutation, by which the operation is found at Shopify when the worker
	// died before storing its id.
	Marker      string
	Lines       int
	StagedPath  string // "" until uploaded
	OperationID string // "" until Shopify accepted the operation
	CreatedAt   time.Time
}

// BulkLine is one line of a batch: what it sends for one customer.
type BulkLine struct {
	CustomerID int64
	Tags       []string
	Metafields map[string]string
	// Keys are the metafield keys a metafieldsDelete line deletes (stored
	// in the tags column: a line never has both).
	Keys []string
}

// CreateBulkBatch stores a batch and its lines (line n of the file is
// lines[n]) in one transaction and returns its id. AddBulkLines stores
// more.
func (s *WritebackStore) CreateBulkBatch(ctx context.Context, shop string, b BulkBatch, lines []BulkLine) (int64, error) {
	tx, err := s.db.Pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("create bulk batch of %s: %w", shop, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	var id int64
	err = tx.QueryRow(ctx, `INSERT INTO writeback_bulk_batches (shop, kind, marker, lines, created_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, shop, b.Kind, b.Marker, len(lines), b.CreatedAt).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("create bulk batch of %s: %w", shop, err)
	}
	if err := copyBulkLines(ctx, tx, shop, id, 0, lines); err != nil {
		return 0, fmt.Errorf("create bulk batch of %s: lines: %w", shop, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("create bulk batch of %s: commit: %w", shop, err)
	}
	return id, nil
}

// AddBulkLines stores more lines of a batch, numbered after those it has,
// in one transaction, so a big batch is stored a part at a time without
// being held whole; a batch no longer there is ErrBulkBatchGone.
func (s *WritebackStore) AddBulkLines(ctx context.Context, shop string, id int64, lines []BulkLine) error {
	tx, err := s.db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("add lines to bulk batch %d of %s: %w", id, shop, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	var first int32
	err = tx.QueryRow(ctx, `UPDATE writeback_bulk_batches SET lines = lines + $3 WHERE shop = $1 AND id = $2
		RETURNING lines - $3`, shop, id, len(lines)).Scan(&first)
	if errors.Is(err, pgx.ErrNoRows) {
		err = ErrBulkBatchGone
	}
	if err != nil {
		return fmt.Errorf("add lines to bulk batch %d of %s: %w", id, shop, err)
	}
	if err := copyBulkLines(ctx, tx, shop, id, first, lines); err != nil {
		return fmt.Errorf("add lines to bulk batch %d of %s: %w", id, shop, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("add lines to bulk batch %d of %s: commit: %w", id, shop, err)
	}
	return nil
}

// copyBulkLines stores lines as the batch's lines first, first+1, ...
func copyBulkLines(ctx context.Context, tx pgx.Tx, shop string, id int64, first int32, lines []BulkLine) error {
	i := 0
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"writeback_bulk_lines"}, []string{"shop", "batch_id", "line", "customer_id", "tags", "metafields"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i >= len(lines) {
				return nil, nil
			}
			l := lines[i]
			i++
			names := l.Tags
			if len(l.Keys) > 0 {
				names = l.Keys
			}
			tags, raw, err := columnValues(names, l.Metafields)
			if err != nil {
				return nil, err
			}
			return []any{shop, id, first + int32(i-1), l.CustomerID, tags, raw}, nil
		}))
	return err
}

// SetBulkStaged records where the batch's file was uploaded.
func (s *WritebackStore) SetBulkStaged(ctx context.Context, shop string, id int64, path string) error {
	tag, err := s.db.Pool.Exec(ctx, `UPDATE writeback_bulk_batches SET staged_path = $3 WHERE shop = $1 AND id = $2`, shop, id, path)
	if err == nil && tag.RowsAffected() != 1 {
		err = ErrBulkBatchGone
	}
	if err != nil {
		return fmt.Errorf("record staged upload of bulk batch %d of %s: %w", id, shop, err)
	}
	return nil
}

// ErrBulkBatchGone means a batch this write-back stored is no longer there, so
// another write-back of the shop settled or dropped it, which only happens
// when this one lost its lock. It must stop and record nothing.
var ErrBulkBatchGone = errors.New("bulk batch is gone: another write-back took over the shop")

// SetBulkStarted records the operation Shopify started for the batch.
func (s *WritebackStore) SetBulkStarted(ctx context.Context, shop string, id int64, operationID string, at time.Time) error {
	tag, err := s.db.Pool.Exec(ctx, `UPDATE writeback_bulk_batches SET operation_id = $3, started_at = $4 WHERE shop = $1 AND id = $2`,
		shop, id, operationID, at)
	if err == nil && tag.RowsAffected() != 1 {
		err = ErrBulkBatchGone
	}
	if err != nil {
		return fmt.Errorf("record bulk operation %s of %s: %w", operationID, shop, err)
	}
	return nil
}

// BulkBatches lists the shop's unsettled batches, oldest first.
func (s *WritebackStore) BulkBatches(ctx context.Context, shop string) ([]BulkBatch, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT id, kind, marker, lines, coalesce(staged_path, ''), coalesce(operation_id, ''), created_at
		FROM writeback_bulk_batches WHERE shop = $1 ORDER BY id`, shop)
	if err != nil {
		return nil, fmt.Errorf("list bulk batches of %s: %w", shop, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (BulkBatch, error) {
		var b BulkBatch
		err := r.Scan(&b.ID, &b.Kind, &b.Marker, &b.Lines, &b.StagedPath, &b.OperationID, &b.CreatedAt)
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("list bulk batches of %s: %w", shop, err)
	}
	return out, nil
}

// DropBulkBatch forgets a batch none of whose lines can be confirmed (its
// operation never started, or ended without results): the next plan
// sends its changes again.
func (s *WritebackStore) DropBulkBatch(ctx context.Context, shop string, id int64) error {
	if _, err := s.db.Pool.Exec(ctx, `WITH b AS (DELETE FROM writeback_bulk_batches WHERE shop = $1 AND id = $2)
		DELETE FROM writeback_bulk_lines WHERE shop = $1 AND batch_id = $2`, shop, id); err != nil {
		return fmt.Errorf("drop bulk batch %d of %s: %w", id, shop, err)
	}
	return nil
}

// BulkLineCustomers returns the customers of the given lines of a batch,
// in line order: a write-back names the customers whose lines failed
// without holding the customer of every line it sent.
func (s *WritebackStore) BulkLineCustomers(ctx context.Context, shop string, id int64, lines []int32) ([]int64, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT customer_id FROM writeback_bulk_lines
		WHERE shop = $1 AND batch_id = $2 AND line = ANY($3::int4[]) ORDER BY line`, shop, id, lines)
	if err != nil {
		return nil, fmt.Errorf("customers of bulk batch %d of %s: %w", id, shop, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("customers of bulk batch %d of %s: %w", id, shop, err)
	}
	return out, nil
}

// SettleBulkBatch records the lines of a batch Shopify confirmed (all but
// the line numbers in failed) onto customer_writeback and deletes the
// batch, in one transaction, so a batch is recorded exactly once however
// often a worker dies around it; a batch no longer there is
// ErrBulkBatchGone. Recording is relative to each customer's
// current row: tagsAdd adds the line's tags it lacks, tagsRemove takes them
// away (a row left with nothing of the app's goes), metafieldsSet merges
// the values, metafieldsDelete takes the keys away (likewise).
func (s *WritebackStore) SettleBulkBatch(ctx context.Context, shop string, id int64, failed []int32) error {
	tx, err := s.db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("settle bulk batch %d of %s: %w", id, shop, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	var kind string
	err = tx.QueryRow(ctx, `SELECT kind FROM writeback_bulk_batches WHERE shop = $1 AND id = $2 FOR UPDATE`, shop, id).Scan(&kind)
	if errors.Is(err, pgx.ErrNoRows) {
		// Settled or dropped by another write-back: recording its lines
		// again would count them twice.
		err = ErrBulkBatchGone
	}
	if err != nil {
		return fmt.Errorf("settle bulk batch %d of %s: %w", id, shop, err)
	}
	if failed == nil {
		failed = []int32{}
	}
	// Failed lines are few as a rule: reading the batch whole and leaving
	// them out beats looking up each confirmed line.
	const confirmed = `SELECT l.customer_id, l.tags, l.metafields FROM writeback_bulk_lines l
		WHERE l.shop = $1 AND l.batch_id = $2 AND NOT l.line = ANY($3::int4[])`
	switch kind {
	case BulkTagsAdd:
		_, err = tx.Exec(ctx, `INSERT INTO customer_writeback AS w (shop, customer_id, tags, metafields, written_at)
			SELECT $1, c.customer_id, c.tags, '{}', now() FROM (`+confirmed+`) c
			ON CONFLICT (shop, customer_id) DO UPDATE SET written_at = now(), tags = w.tags || ARRAY(
				SELECT t FROM unnest(EXCLUDED.tags) WITH ORDINALITY AS x(t, i) WHERE NOT t = ANY(w.tags) ORDER BY i)`, shop, id, failed)
	case BulkTagsRemove:
		err = removeConfirmed(ctx, tx, `tags = ARRAY(
				SELECT t FROM unnest(w.tags) WITH ORDINALITY AS x(t, i) WHERE NOT t = ANY(c.tags) ORDER BY i)`, confirmed, shop, id, failed)
	case BulkMetafieldsDelete:
		err = removeConfirmed(ctx, tx, `metafields = w.metafields - c.tags`, confirmed, shop, id, failed)
	case BulkMetafields:
		_, err = tx.Exec(ctx, `INSERT INTO customer_writeback AS w (shop, customer_id, tags, metafields, written_at)
			SELECT $1, c.customer_id, '{}', c.metafields, now() FROM (`+confirmed+`) c
			ON CONFLICT (shop, customer_id) DO UPDATE SET written_at = now(), metafields = w.metafields || EXCLUDED.metafields`, shop, id, failed)
	default:
		return fmt.Errorf("settle bulk batch %d of %s: unknown kind %q", id, shop, kind)
	}
	if err != nil {
		return fmt.Errorf("settle bulk batch %d of %s: record: %w", id, shop, err)
	}
	if _, err := tx.Exec(ctx, `WITH b AS (DELETE FROM writeback_bulk_batches WHERE shop = $1 AND id = $2)
		DELETE FROM writeback_bulk_lines WHERE shop = $1 AND batch_id = $2`, shop, id); err != nil {
		return fmt.Errorf("settle bulk batch %d of %s: %w", id, shop, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("settle bulk batch %d of %s: commit: %w", id, shop, err)
	}
	return nil
}

// removeConfirmed takes what the confirmed lines removed (set, an
// assignment reading the line as c) off the customers' rows; a customer
// left with nothing of the app's has no row (as Save does).
func removeConfirmed(ctx context.Context, tx pgx.Tx, set, confirmed, shop string, id int64, failed []int32) error {
	var emptied []int64
	rows, err := tx.Query(ctx, `UPDATE customer_writeback w SET written_at = now(), `+set+`
			FROM (`+confirmed+`) c WHERE w.shop = $1 AND w.customer_id = c.customer_id
			RETURNING w.customer_id, cardinality(w.tags) = 0 AND w.metafields = '{}'::jsonb`, shop, id, failed)
	if err != nil {
		return err
	}
	var (
		cid   int64
		empty bool
	)
	_, err = pgx.ForEachRow(rows, []any{&cid, &empty}, func() error {
		if empty {
			emptied = append(emptied, cid)
		}
		return nil
	})
	if err == nil && len(emptied) > 0 {
		_, err = tx.Exec(ctx, `DELETE FROM customer_writeback WHERE shop = $1 AND customer_id = ANY($2)`, shop, emptied)
	}
	return err
}
