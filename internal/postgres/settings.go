package postgres

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/cvo-app/cvo/internal/cvo"
)

// SettingsStore keeps each shop's scoring and write-back settings.
type SettingsStore struct {
	db *DB
}

// NewSettingsStore returns the settings store.
func NewSettingsStore(db *DB) *SettingsStore { return &SettingsStore{db: db} }

var refundDatingNames = map[cvo.RefundDating]string{cvo.RefundAtRefundDate: "refund_date", cvo.RefundAtOrderDate: "order_date"}

// settingsRow is a settings row, an ordinary row read and written whole
// through gorm.
type settingsRow struct {
	Shop          string `gorm:"primaryKey"`
	TagPrefix     string
	GroupsEnabled textArray
	ValueTags     cvo.ValueTags `gorm:"serializer:json"`
	Metafields    bool
	Segments      bool
	CAC           float64            `gorm:"column:cac"`
	CACBySource   map[string]float64 `gorm:"column:cac_by_source;serializer:json"`
	DefaultMargin float64
	RefundDating  string
	NightlyHour   int
	// The prediction settings.
	PredictionWindowDays int
	ChurnRiskHigh        float64
	ChurnRiskMedium      float64
	ShareSurveyLinks     bool
	UpdatedAt            time.Time
}

func (settingsRow) TableName() string { return "settings" }

// Get returns the shop's settings, or the defaults when it never saved any.
func (s *SettingsStore) Get(ctx context.Context, shop string) (cvo.Settings, error) {
	var row settingsRow
	err := s.db.Gorm.WithContext(ctx).Where("shop = ?", shop).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return cvo.DefaultSettings(), nil
	}
	if err != nil {
		return cvo.DefaultSettings(), fmt.Errorf("get settings of %s: %w", shop, err)
	}
	out := cvo.Settings{TagPrefix: row.TagPrefix, GroupsEnabled: row.GroupsEnabled, ValueTags: row.ValueTags,
		Metafields: row.Metafields, Segments: row.Segments, CAC: row.CAC, CACBySource: row.CACBySource,
		DefaultMargin: row.DefaultMargin, RefundDating: cvo.RefundAtRefundDate, NightlyHour: row.NightlyHour,
		PredictionWindowDays: row.PredictionWindowDays, ChurnRiskHigh: row.ChurnRiskHigh, ChurnRiskMedium: row.ChurnRiskMedium,
		ShareSurveyLinks: row.ShareSurveyLinks}
	if row.RefundDating == "order_date" {
		out.RefundDating = cvo.RefundAtOrderDate
	}
	if out.CACBySource == nil {
		out.CACBySource = map[string]float64{}
	}
	return out, nil
}

// Save validates and stores the shop's settings.
func (s *SettingsStore) Save(ctx context.Context, shop string, in cvo.Settings) error {
	if err := in.Validate(); err != nil {
		return err
	}
	if in.CACBySource == nil {
		in.CACBySource = map[string]float64{}
	}
	row := settingsRow{Shop: shop, TagPrefix: in.TagPrefix, GroupsEnabled: in.GroupsEnabled, ValueTags: in.ValueTags,
		Metafields: in.Metafields, Segments: in.Segments, CAC: in.CAC, CACBySource: in.CACBySource,
		DefaultMargin: in.DefaultMargin, RefundDating: refundDatingNames[in.RefundDating], NightlyHour: in.NightlyHour,
		PredictionWindowDays: in.PredictionWindowDays, ChurnRiskHigh: in.ChurnRiskHigh, ChurnRiskMedium: in.ChurnRiskMedium,
		ShareSurveyLinks: in.ShareSurveyLinks, UpdatedAt: time.Now()}
	err := s.db.Gorm.WithContext(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "shop"}},
		DoUpdates: clause.AssignmentColumns([]string{"tag_prefix", "groups_enabled", "value_tags", "metafields", "segments",
			"cac", "cac_by_source", "default_margin", "refund_dating", "nightly_hour",
			"prediction_window_days", "churn_risk_high", "churn_risk_medium", "share_survey_links", "updated_at"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("save settings of %s: %w", shop, err)
	}
	return nil
}

// textArray is a PostgreSQL text[] for gorm: database/sql hands Scan the
// array in its text form ("{a,b}"), which pgtype parses, quoting included.
// nil is NULL and an empty array stays empty, so "all groups" (nil) and
// "no group" (empty) remain different settings.
type textArray []string

// GormDataType tells gorm's schema parser the column type.
func (textArray) GormDataType() string { return "text[]" }

// Scan implements sql.Scanner.
func (a *textArray) Scan(src any) error {
	if src == nil {
		*a = nil
		return nil
	}
	out := []string{}
	if err := pgtype.NewMap().SQLScanner(&out).Scan(src); err != nil {
		return fmt.Errorf("scan text[]: %w", err)
	}
	*a = out
	return nil
}

// Value implements driver.Value with the array's text form, which any
// database/sql driver can send as a text[] parameter.
func (a textArray) Value() (driver.Value, error) {
	if a == nil {
		return nil, nil
	}
	buf, err := pgtype.NewMap().Encode(pgtype.TextArrayOID, pgtype.TextFormatCode, []string(a), nil)
	if err != nil {
		return nil, fmt.Errorf("encode text[]: %w", err)
	}
	return string(buf), nil
}
