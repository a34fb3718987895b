package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
)

func TestSettingsDefaultsSaveAndValidate(t *testing.T) {
	ctx := context.Background()
	store := postgres.NewSettingsStore(pgtest.New(t))

	got, err := store.Get(ctx, "a.myshopify.com")
	require.NoError(t, err)
	assert.Equal(t, cvo.DefaultSettings(), got)

	want := cvo.Settings{TagPrefix: "vip_", GroupsEnabled: []string{"soulmates", "lovers"}, ValueTags: cvo.ValueTags{ChurnRisk: true},
		Metafields: false, Segments: true, CAC: 12.5, CACBySource: map[string]float64{"google": 20}, DefaultMargin: 0.35,
		RefundDating: cvo.RefundAtOrderDate, NightlyHour: 4, PredictionWindowDays: 60, ChurnRiskHigh: 0.05, ChurnRiskMedium: 0.2,
		ShareSurveyLinks: true}
	require.NoError(t, store.Save(ctx, "a.myshopify.com", want))
	got, err = store.Get(ctx, "a.myshopify.com")
	require.NoError(t, err)
	assert.Equal(t, want, got)
	other, err := store.Get(ctx, "b.myshopify.com")
	require.NoError(t, err)
	assert.Equal(t, cvo.DefaultSettings(), other, "settings are per shop")

	for name, bad := range map[string]func(*cvo.Settings){
		"empty prefix":       func(s *cvo.Settings) { s.TagPrefix = "" },
		"prefix with ','":    func(s *cvo.Settings) { s.TagPrefix = "a,b" },
		"upper-case":         func(s *cvo.Settings) { s.TagPrefix = "CVO-" },
		"negative CAC":       func(s *cvo.Settings) { s.CAC = -1 },
		"margin over 100%":   func(s *cvo.Settings) { s.DefaultMargin = 1.5 },
		"zero margin":        func(s *cvo.Settings) { s.DefaultMargin = 0 },
		"no window":          func(s *cvo.Settings) { s.PredictionWindowDays = 0 },
		"window of 11 years": func(s *cvo.Settings) { s.PredictionWindowDays = 4000 },
		"churn high of 0":    func(s *cvo.Settings) { s.ChurnRiskHigh = 0 },
		"churn medium of 1":  func(s *cvo.Settings) { s.ChurnRiskMedium = 1 },
		"high above medium":  func(s *cvo.Settings) { s.ChurnRiskHigh, s.ChurnRiskMedium = 0.4, 0.3 },
		"hour 24":            func(s *cvo.Settings) { s.NightlyHour = 24 },
		"unnamed source":     func(s *cvo.Settings) { s.CACBySource = map[string]float64{" ": 3} },
	} {
		s := cvo.DefaultSettings()
		bad(&s)
		err := store.Save(ctx, "a.myshopify.com", s)
		assert.Equal(t, cvo.EINVALID, cvo.ErrorCode(err), name)
	}
	got, err = store.Get(ctx, "a.myshopify.com")
	require.NoError(t, err)
	assert.Equal(t, want, got, "a rejected save changes nothing")
}

// The groups are a text[] column: nil (every group) and empty (no group)
// must stay apart, and slugs must survive the array's quoting.
func TestSettingsGroupsRoundTrip(t *testing.T) {
	ctx := context.Background()
	store := postgres.NewSettingsStore(pgtest.New(t))
	for name, groups := range map[string][]string{
		"nil means all":  nil,
		"empty means no": {},
		"one":            {"soulmates"},
		"quoting":        {"a,b", `q"uote`, "NULL", "", "sp ace", `back\slash`, "{brace}", "é"},
	} {
		s := cvo.DefaultSettings()
		s.GroupsEnabled = groups
		require.NoError(t, store.Save(ctx, "a.myshopify.com", s), name)
		got, err := store.Get(ctx, "a.myshopify.com")
		require.NoError(t, err, name)
		assert.Equal(t, groups, got.GroupsEnabled, name)
		assert.Equal(t, s, got, name)
	}
}
