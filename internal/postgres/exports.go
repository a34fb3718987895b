package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

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

// dataRequestRow is a data_requests row, an ordinary row read through gorm.
type dataRequestRow struct {
	Shop       string
	RequestID  string
	CustomerID string
	Export     []byte
	CreatedAt  time.Time
}

func (dataRequestRow) TableName() string { return "data_requests" }

// List returns the shop's unexpired exports, newest first.
func (s *ExportStore) List(ctx context.Context, shop string) ([]DataExport, error) {
	var rows []dataRequestRow
	err := s.db.Gorm.WithContext(ctx).Select("request_id", "customer_id", "created_at").
		Where("shop = ? AND created_at >= ?", shop, s.now().Add(-s.retention)).
		Order("created_at DESC, request_id").Limit(maxListedExports).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list exports of %s: %w", shop, err)
	}
	out := make([]DataExport, len(rows))
	for i, r := range rows {
		out[i] = DataExport{RequestID: r.RequestID, CustomerID: r.CustomerID, CreatedAt: r.CreatedAt, ExpiresAt: r.CreatedAt.Add(s.retention)}
	}
	return out, nil
}

// Get returns one unexpired export of the shop.
func (s *ExportStore) Get(ctx context.Context, shop, requestID string) (json.RawMessage, error) {
	var row dataRequestRow
	err := s.db.Gorm.WithContext(ctx).Select("export").
		Where("shop = ? AND request_id = ? AND created_at >= ?", shop, requestID, s.now().Add(-s.retention)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, cvo.Errorf(cvo.ENOTFOUND, "No data request export %s.", requestID)
	}
	if err != nil {
		return nil, fmt.Errorf("read export of %s: %w", shop, err)
	}
	return row.Export, nil
}
