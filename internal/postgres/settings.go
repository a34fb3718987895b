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

// SettingsStore keeps each shop's scoring and write-back settings.
type SettingsStore struct {
	db *DB
}

// NewSettingsStore returns the settings store.
func NewSettingsStore(db *DB) *SettingsStore { return &SettingsStore{db: db} }

var refundDatingNames = map[cvo.RefundDating]string{cvo.RefundAtRefundDate: "refund_date", cvo.RefundAtOrderDate: "order_date"}

// Get returns the shop's settings, or the defaults when it never saved any.
func (s *SettingsStore) Get(ctx context.Context, shop string) (cvo.Settings, error) {
	out := cvo.DefaultSettings()
	var (
		groups      []string
		valueTags   []byte
		cacBySource []byte
		dating      string
	)
	err := s.db.Pool.QueryRow(ctx, `SELECT tag_prefix, groups_enabled, value_tags, metafields, segments, cac::float8,
			cac_by_source, default_margin::float8, refund_dating, nightly_hour
		FROM settings WHERE shop = $1`, shop).Scan(&out.TagPrefix, &groups, &valueTags, &out.Metafields, &out.Segments,
		&out.CAC, &cacBySource, &out.DefaultMargin, &dating, &out.NightlyHour)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("get settings of %s: %w", shop, err)
	}
	out.GroupsEnabled = groups
	if err := json.Unmarshal(valueTags, &out.ValueTags); err != nil {
		return out, fmt.Errorf("settings of %s: value tags: %w", shop, err)
	}
	if err := json.Unmarshal(cacBySource, &out.CACBySource); err != nil {
		return out, fmt.Errorf("settings of %s: cac by source: %w", shop, err)
	}
	if dating == "order_date" {
		out.RefundDating = cvo.RefundAtOrderDate
	}
	return out, nil
}

// Save validates and stores the shop's settings.
func (s *SettingsStore) Save(ctx context.Context, shop string, in cvo.Settings) error {
	if err := in.Validate(); err != nil {
		return err
	}
	valueTags, err := json.Marshal(in.ValueTags)
	if err != nil {
		return err
	}
	if in.CACBySource == nil {
		in.CACBySource = map[string]float64{}
	}
	cacBySource, err := json.Marshal(in.CACBySource)
	if err != nil {
		return err
	}
	_, err = s.db.Pool.Exec(ctx, `INSERT INTO settings (shop, tag_prefix, groups_enabled, value_tags, metafields, segments, cac,
			cac_by_source, default_margin, refund_dating, nightly_hour, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (shop) DO UPDATE SET tag_prefix = excluded.tag_prefix, groups_enabled = excluded.groups_enabled,
			value_tags = excluded.value_tags, metafields = excluded.metafields, segments = excluded.segments, cac = excluded.cac,
			cac_by_source = excluded.cac_by_source, default_margin = excluded.default_margin,
			refund_dating = excluded.refund_dating, nightly_hour = excluded.nightly_hour, updated_at = excluded.updated_at`,
		shop, in.TagPrefix, in.GroupsEnabled, valueTags, in.Metafields, in.Segments, in.CAC, cacBySource, in.DefaultMargin,
		refundDatingNames[in.RefundDating], in.NightlyHour, time.Now())
	if err != nil {
		return fmt.Errorf("save settings of %s: %w", shop, err)
	}
	return nil
}
