package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
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

// Scan calls fn for each of the shop's rows in customer id order, streaming,
// so a million-customer shop never sits in memory. Without metafields the
// Metafields maps are nil.
func (s *WritebackStore) Scan(ctx context.Context, shop string, withMetafields bool, fn func(Writeback) error) error {
	q := `SELECT customer_id, tags, NULL::jsonb FROM customer_writeback WHERE shop = $1 ORDER BY customer_id`
	if withMetafields {
		q = `SELECT customer_id, tags, metafields FROM customer_writeback WHERE shop = $1 ORDER BY customer_id`
	}
	rows, err := s.db.Pool.Query(ctx, q, shop)
	if err != nil {
		return fmt.Errorf("scan write-back of %s: %w", shop, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			w   Writeback
			raw []byte
		)
		if err := rows.Scan(&w.CustomerID, &w.Tags, &raw); err != nil {
			return fmt.Errorf("scan write-back of %s: %w", shop, err)
		}
		switch {
		case raw == nil:
		case string(raw) == "{}":
			w.Metafields = map[string]string{}
		default:
			if err := json.Unmarshal(raw, &w.Metafields); err != nil {
				return fmt.Errorf("scan write-back of %s: customer %d metafields: %w", shop, w.CustomerID, err)
			}
		}
		if err := fn(w); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scan write-back of %s: %w", shop, err)
	}
	return nil
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
				mf := r.Metafields
				if mf == nil {
					mf = map[string]string{}
				}
				raw, err := json.Marshal(mf)
				if err != nil {
					return nil, err
				}
				tags := r.Tags
				if tags == nil {
					tags = []string{}
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
	for _, table := range []string{"customer_writeback", "activation_segments", "activation_setup"} {
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

// Setup returns the shop's set-up; the zero value when nothing was set up.
func (s *WritebackStore) Setup(ctx context.Context, shop string) (WritebackSetup, error) {
	var (
		out  WritebackSetup
		last *time.Time
	)
	err := s.db.Pool.QueryRow(ctx, `SELECT definitions_version, tag_prefixes, last_run_at, last_report
		FROM activation_setup WHERE shop = $1`, shop).Scan(&out.DefinitionsVersion, &out.TagPrefixes, &last, &out.LastReport)
	if errors.Is(err, pgx.ErrNoRows) {
		return WritebackSetup{}, nil
	}
	if err != nil {
		return out, fmt.Errorf("get write-back set-up of %s: %w", shop, err)
	}
	if last != nil {
		out.LastRunAt = *last
	}
	return out, nil
}

// SaveDefinitionsVersion records that the definitions of version v exist.
func (s *WritebackStore) SaveDefinitionsVersion(ctx context.Context, shop string, v int) error {
	_, err := s.db.Pool.Exec(ctx, `INSERT INTO activation_setup (shop, definitions_version) VALUES ($1, $2)
		ON CONFLICT (shop) DO UPDATE SET definitions_version = EXCLUDED.definitions_version, updated_at = now()`, shop, v)
	if err != nil {
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
	_, err = s.db.Pool.Exec(ctx, `INSERT INTO activation_setup (shop, last_run_at, last_report) VALUES ($1, $2, $3)
		ON CONFLICT (shop) DO UPDATE SET last_run_at = EXCLUDED.last_run_at, last_report = EXCLUDED.last_report, updated_at = now()`,
		shop, at, raw)
	if err != nil {
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

// Segments lists the shop's segments by group slug.
func (s *WritebackStore) Segments(ctx context.Context, shop string) ([]SegmentRecord, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT grp, segment_id, name, query, updated_at FROM activation_segments
		WHERE shop = $1 ORDER BY grp`, shop)
	if err != nil {
		return nil, fmt.Errorf("list segments of %s: %w", shop, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SegmentRecord, error) {
		var rec SegmentRecord
		err := r.Scan(&rec.Group, &rec.SegmentID, &rec.Name, &rec.Query, &rec.UpdatedAt)
		return rec, err
	})
	if err != nil {
		return nil, fmt.Errorf("list segments of %s: %w", shop, err)
	}
	return out, nil
}

// SaveSegment stores the segment owned for rec.Group.
func (s *WritebackStore) SaveSegment(ctx context.Context, shop string, rec SegmentRecord) error {
	_, err := s.db.Pool.Exec(ctx, `INSERT INTO activation_segments (shop, grp, segment_id, name, query) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (shop, grp) DO UPDATE SET segment_id = EXCLUDED.segment_id, name = EXCLUDED.name, query = EXCLUDED.query, updated_at = now()`,
		shop, rec.Group, rec.SegmentID, rec.Name, rec.Query)
	if err != nil {
		return fmt.Errorf("save segment %s of %s: %w", rec.Group, shop, err)
	}
	return nil
}
