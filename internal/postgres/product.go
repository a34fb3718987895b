package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ProductRow is a product of the shop's catalogue.
type ProductRow struct {
	ID          int64
	Title       string
	ProductType string
	Vendor      string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// VariantRow is a product variant with its inventory item's unit cost.
type VariantRow struct {
	ProductID int64
	ID        int64
	Title     string
	SKU       string
	Price     string // "" = unknown
	UnitCost  string // "" = the merchant never recorded a cost
}

// ProductStore reads a shop's catalogue. Products arrive only through the
// history sync (the app subscribes to no product webhooks).
type ProductStore struct {
	db *DB
}

// NewProductStore returns the product store.
func NewProductStore(db *DB) *ProductStore { return &ProductStore{db: db} }

// Get returns a product with its variants.
func (s *ProductStore) Get(ctx context.Context, shop string, id int64) (ProductRow, []VariantRow, bool, error) {
	p := ProductRow{ID: id}
	var created *time.Time
	err := s.db.Pool.QueryRow(ctx, `SELECT title, product_type, vendor, created_at, updated_at FROM products WHERE shop = $1 AND id = $2`,
		shop, id).Scan(&p.Title, &p.ProductType, &p.Vendor, &created, &p.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, nil, false, nil
	}
	if err != nil {
		return p, nil, false, fmt.Errorf("get product of %s: %w", shop, err)
	}
	p.CreatedAt = deref(created)
	rows, err := s.db.Pool.Query(ctx, `SELECT id, title, COALESCE(sku, ''), COALESCE(price::text, ''), COALESCE(unit_cost::text, '')
		FROM variants WHERE shop = $1 AND product_id = $2 ORDER BY id`, shop, id)
	if err != nil {
		return p, nil, false, fmt.Errorf("get variants of %s: %w", shop, err)
	}
	vs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (VariantRow, error) {
		v := VariantRow{ProductID: id}
		return v, r.Scan(&v.ID, &v.Title, &v.SKU, &v.Price, &v.UnitCost)
	})
	if err != nil {
		return p, nil, false, fmt.Errorf("get variants of %s: %w", shop, err)
	}
	return p, vs, true, nil
}
