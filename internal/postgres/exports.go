package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cvo-app/cvo/internal/cvo"
)

// ExportStore lets the merchant read the customers/data_request exports
// the app made, until the retention expires them.
type ExportStore struct {
	db        *DB
	retention time.Duration
	now       func() time.Time
}

// NewExportStore returns the export store; retention is how long an
// export stays readable (the retention job deletes it after that).
func NewExportStore(db *DB, retention time.Duration) *ExportStore {
	return &ExportStore{db: db, retention: retention, now: time.Now}
}

// DataExport describes one stored export, without its content.
type DataExport struct {
	RequestID  string    `json:"request_id"`
	CustomerID string    `json:"customer_id"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// maxListedExports bounds the list; exports live only for the retention,
// and a shop gets few data requests.
const maxListedExports = 500

// List returns the shop's unexpired exports, newest first.
func (s *ExportStore) List(ctx context.Context, shop string) ([]DataExport, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT request_id, customer_id, created_at FROM data_requests
		WHERE shop = $1 AND created_at >= $2 ORDER BY created_at DESC, request_id LIMIT $3`, shop, s.now().Add(-s.retention), maxListedExports)
	if err != nil {
		return nil, fmt.Errorf("list exports of %s: %w", shop, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DataExport, error) {
		var e DataExport
		err := r.Scan(&e.RequestID, &e.CustomerID, &e.CreatedAt)
		e.ExpiresAt = e.CreatedAt.Add(s.retention)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("list exports of %s: %w", shop, err)
	}
	return out, nil
}

// Get returns one unexpired export of the shop.
func (s *ExportStore) Get(ctx context.Context, shop, requestID string) (json.RawMessage, error) {
	var body []byte
	err := s.db.Pool.QueryRow(ctx, `SELECT export FROM data_requests WHERE shop = $1 AND request_id = $2 AND created_at >= $3`,
		shop, requestID, s.now().Add(-s.retention)).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, cvo.Errorf(cvo.ENOTFOUND, "No data request export %s.", requestID)
	}
	if err != nil {
		return nil, fmt.Errorf("read export of %s: %w", shop, err)
	}
	return body, nil
}
