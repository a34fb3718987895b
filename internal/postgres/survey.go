package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/scoring"
	"github.com/cvo-app/cvo/internal/survey"
)

// SurveyStore keeps the shops' surveys (ordinary rows, gorm) and their
// responses (upserts with conflict rules and aggregates, pgx).
type SurveyStore struct {
	db *DB
}

// NewSurveyStore returns the survey store.
func NewSurveyStore(db *DB) *SurveyStore { return &SurveyStore{db: db} }

// surveyDefinition is the jsonb part of a survey: what the page asks.
type surveyDefinition struct {
	NPSQuestion string            `json:"nps_question,omitempty"`
	CESQuestion string            `json:"ces_question,omitempty"`
	WhyQuestion string            `json:"why_question,omitempty"`
	Questions   []survey.Question `json:"questions,omitempty"`
}

// surveyRow is a surveys row.
type surveyRow struct {
	ID            int64 `gorm:"primaryKey"`
	Shop          string
	Key           string
	Title         string
	Status        string
	Definition    surveyDefinition `gorm:"serializer:json"`
	Groups        textArray
	BrandColor    string
	Language      string
	LinkDays      int
	RetentionDays int
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (surveyRow) TableName() string { return "surveys" }

func (r surveyRow) survey() survey.Survey {
	groups := []string(r.Groups)
	if groups == nil {
		groups = []string{}
	}
	return survey.Survey{ID: r.ID, Shop: r.Shop, Key: r.Key, Title: r.Title, Status: survey.Status(r.Status),
		NPSQuestion: r.Definition.NPSQuestion, CESQuestion: r.Definition.CESQuestion, WhyQuestion: r.Definition.WhyQuestion,
		Questions: r.Definition.Questions, Groups: groups, BrandColor: r.BrandColor, Language: r.Language,
		LinkDays: r.LinkDays, RetentionDays: r.RetentionDays, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func rowOfSurvey(s survey.Survey) surveyRow {
	return surveyRow{ID: s.ID, Shop: s.Shop, Key: s.Key, Title: s.Title, Status: string(s.Status),
		Definition: surveyDefinition{NPSQuestion: s.NPSQuestion, CESQuestion: s.CESQuestion, WhyQuestion: s.WhyQuestion, Questions: s.Questions},
		Groups:     textArray(s.Groups), BrandColor: s.BrandColor, Language: s.Language, LinkDays: s.LinkDays, RetentionDays: s.RetentionDays}
}

// maxSurveysPerShop bounds a shop's surveys: each active one adds a
// metafield to every targeted customer.
const maxSurveysPerShop = 50

func noSurvey() error { return cvo.Errorf(cvo.ENOTFOUND, "No such survey.") }

// List returns the shop's surveys, newest first.
func (s *SurveyStore) List(ctx context.Context, shop string) ([]survey.Survey, error) {
	var rows []surveyRow
	if err := s.db.Gorm.WithContext(ctx).Where("shop = ?", shop).Order("id DESC").Limit(maxSurveysPerShop).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list surveys of %s: %w", shop, err)
	}
	out := make([]survey.Survey, len(rows))
	for i, r := range rows {
		out[i] = r.survey()
	}
	return out, nil
}

// Get returns one survey of the shop.
func (s *SurveyStore) Get(ctx context.Context, shop string, id int64) (survey.Survey, error) {
	var row surveyRow
	err := s.db.Gorm.WithContext(ctx).Where("shop = ? AND id = ?", shop, id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return survey.Survey{}, noSurvey()
	}
	if err != nil {
		return survey.Survey{}, fmt.Errorf("get survey %d of %s: %w", id, shop, err)
	}
	return row.survey(), nil
}

// ByID returns a survey by its id alone, for the public page: the id in a
// link says which shop's key verifies it. A survey of a shop that
// uninstalled the app is closed to its customers (its stored status
// stays, for a reinstall): the merchant can no longer read or close it.
func (s *SurveyStore) ByID(ctx context.Context, id int64) (survey.Survey, error) {
	var row surveyRow
	err := s.db.Gorm.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return survey.Survey{}, noSurvey()
	}
	if err != nil {
		return survey.Survey{}, fmt.Errorf("get survey %d: %w", id, err)
	}
	sv := row.survey()
	if sv.Status == survey.Active {
		var left bool
		if err := s.db.Pool.QueryRow(ctx, `SELECT `+shopUninstalled("$1::text"), sv.Shop).Scan(&left); err != nil {
			return survey.Survey{}, fmt.Errorf("get survey %d: %w", id, err)
		}
		if left {
			sv.Status = survey.Closed
		}
	}
	return sv, nil
}

// shopUninstalled is an SQL condition: the shop named by the column left
// the app (a shop with no row, as in tests that install none, has not).
func shopUninstalled(shopColumn string) string {
	return `EXISTS (SELECT 1 FROM shops WHERE shops.shop = ` + shopColumn + ` AND shops.uninstalled_at IS NOT NULL)`
}

// Create stores a new, validated survey and returns it with its id.
func (s *SurveyStore) Create(ctx context.Context, sv survey.Survey) (survey.Survey, error) {
	var n int64
	if err := s.db.Gorm.WithContext(ctx).Model(&surveyRow{}).Where("shop = ?", sv.Shop).Count(&n).Error; err != nil {
		return sv, fmt.Errorf("create survey of %s: %w", sv.Shop, err)
	}
	if n >= maxSurveysPerShop {
		return sv, cvo.Errorf(cvo.EINVALID, "A shop has at most %d surveys; delete one first.", maxSurveysPerShop)
	}
	row := rowOfSurvey(sv)
	row.ID = 0
	if err := s.db.Gorm.WithContext(ctx).Omit("created_at", "updated_at").Create(&row).Error; err != nil {
		if uniqueViolation(err) {
			return sv, cvo.Errorf(cvo.ECONFLICT, "Another survey already uses the key %q.", sv.Key)
		}
		return sv, fmt.Errorf("create survey of %s: %w", sv.Shop, err)
	}
	return s.Get(ctx, sv.Shop, row.ID)
}

// Update saves a survey's editable fields; its key and shop stay.
func (s *SurveyStore) Update(ctx context.Context, sv survey.Survey) (survey.Survey, error) {
	row := rowOfSurvey(sv)
	res := s.db.Gorm.WithContext(ctx).Model(&surveyRow{}).Where("shop = ? AND id = ?", sv.Shop, sv.ID).Updates(map[string]any{
		"title": row.Title, "status": row.Status, "definition": gorm.Expr("?::jsonb", mustJSON(row.Definition)),
		"groups": row.Groups, "brand_color": row.BrandColor, "language": row.Language,
		"link_days": row.LinkDays, "retention_days": row.RetentionDays, "updated_at": gorm.Expr("now()"),
	})
	if res.Error != nil {
		return sv, fmt.Errorf("update survey %d of %s: %w", sv.ID, sv.Shop, res.Error)
	}
	if res.RowsAffected == 0 {
		return sv, noSurvey()
	}
	return s.Get(ctx, sv.Shop, sv.ID)
}

// Delete removes a survey and its responses.
func (s *SurveyStore) Delete(ctx context.Context, shop string, id int64) error {
	res := s.db.Gorm.WithContext(ctx).Where("shop = ? AND id = ?", shop, id).Delete(&surveyRow{})
	if res.Error != nil {
		return fmt.Errorf("delete survey %d of %s: %w", id, shop, res.Error)
	}
	if res.RowsAffected == 0 {
		return noSurvey()
	}
	return nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs of strings always marshal
	}
	return string(b)
}

func uniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// ErrSurveyNotOpen means the survey was closed (or deleted, or put back to
// draft, or its shop uninstalled the app) before the answer arrived, or
// the customer's data was redacted:
// an old link of a forgotten customer stores nothing.
var ErrSurveyNotOpen = cvo.Errorf(cvo.ECONFLICT, "The survey is closed.")

// Submit stores a customer's response to an active survey of the shop. The
// first response is inserted; a later one replaces it whole, or only its
// scores when scoresOnly (a score clicked again from the email must not
// wipe the answers given since). The customer's current RFM group is
// recorded in the same statement. The statement is one upsert, so
// concurrent submissions of one link leave one row, the last one's.
// It returns whether this was the customer's first response.
func (s *SurveyStore) Submit(ctx context.Context, shop string, r survey.Response, scoresOnly bool) (bool, error) {
	answers, err := json.Marshal(r.Answers)
	if err != nil {
		return false, fmt.Errorf("submit response of %s: %w", shop, err)
	}
	if r.Answers == nil {
		answers = []byte("[]")
	}
	update := `nps = excluded.nps, ces = excluded.ces, why = excluded.why, answers = excluded.answers`
	if scoresOnly {
		update = `nps = COALESCE(excluded.nps, sr.nps), ces = COALESCE(excluded.ces, sr.ces)`
	}
	tx, err := s.db.Pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("submit response of %s: %w", shop, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	// A redaction of this customer running now holds the lock until it
	// commits; the insert below then sees its redacted_customers row.
	if err := lockSurveyAnswers(ctx, tx, shop, r.CustomerID); err != nil {
		return false, fmt.Errorf("submit response of %s: %w", shop, err)
	}
	var first bool
	err = tx.QueryRow(ctx, `INSERT INTO survey_responses AS sr (shop, survey_id, customer_id, grp, nps, ces, why, answers)
		SELECT $1, sv.id, $3, COALESCE((SELECT cs.grp FROM customer_scores cs
				WHERE cs.shop = $1 AND cs.customer_id = $3 AND cs.scoring_id =
					(SELECT id FROM scorings WHERE shop = $1 AND state = 'succeeded' ORDER BY id DESC LIMIT 1)), ''),
			$4, $5, $6, $7
		FROM surveys sv WHERE sv.shop = $1 AND sv.id = $2 AND sv.status = 'active'
			AND NOT EXISTS (SELECT 1 FROM redacted_customers rc WHERE rc.shop = $1 AND rc.customer_id = $3)
			AND NOT `+shopUninstalled("sv.shop")+`
		ON CONFLICT (shop, survey_id, customer_id) DO UPDATE SET `+update+`,
			grp = excluded.grp, submitted_at = now(), revisions = sr.revisions + 1
		RETURNING revisions = 1`, shop, r.SurveyID, r.CustomerID, r.NPS, r.CES, r.Why, answers).Scan(&first)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, ErrSurveyNotOpen
	}
	if err != nil {
		return false, fmt.Errorf("submit response of %s: %w", shop, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("submit response of %s: %w", shop, err)
	}
	return first, nil
}

// lockSurveyAnswers takes, until tx ends, the lock that orders a
// customer's survey answers and their redaction.
func lockSurveyAnswers(ctx context.Context, tx pgx.Tx, shop string, customerID int64) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2 || '/' || $3::bigint))`, lockSurveyCustomer, shop, customerID)
	return err
}

// StoredResponse is a response as stored, with its survey's title.
type StoredResponse struct {
	survey.Response
	SurveyTitle string
	FirstAt     time.Time
	Revisions   int
}

const responseColumns = `sr.survey_id, sr.customer_id, sr.grp, sr.nps, sr.ces, sr.why, sr.answers, sr.submitted_at, sr.first_at, sr.revisions, sv.title`

func scanResponse(row pgx.CollectableRow) (StoredResponse, error) {
	var out StoredResponse
	var nps, ces *int16
	var answers []byte
	err := row.Scan(&out.SurveyID, &out.CustomerID, &out.Group, &nps, &ces, &out.Why, &answers, &out.SubmittedAt, &out.FirstAt, &out.Revisions, &out.SurveyTitle)
	if err != nil {
		return out, err
	}
	if nps != nil {
		v := int(*nps)
		out.NPS = &v
	}
	if ces != nil {
		v := int(*ces)
		out.CES = &v
	}
	if err := json.Unmarshal(answers, &out.Answers); err != nil {
		return out, fmt.Errorf("answers: %w", err)
	}
	return out, nil
}

// CustomerResponses returns a customer's responses to the shop's surveys,
// newest first: the customer screen and data requests.
func (s *SurveyStore) CustomerResponses(ctx context.Context, shop string, customerID int64) ([]StoredResponse, error) {
	return customerResponses(ctx, s.db.Pool, shop, customerID)
}

func customerResponses(ctx context.Context, q pgxQuerier, shop string, customerID int64) ([]StoredResponse, error) {
	rows, err := q.Query(ctx, `SELECT `+responseColumns+` FROM survey_responses sr JOIN surveys sv ON sv.id = sr.survey_id
		WHERE sr.shop = $1 AND sr.customer_id = $2 ORDER BY sr.submitted_at DESC, sr.survey_id`, shop, customerID)
	if err != nil {
		return nil, fmt.Errorf("responses of a customer of %s: %w", shop, err)
	}
	out, err := pgx.CollectRows(rows, scanResponse)
	if err != nil {
		return nil, fmt.Errorf("responses of a customer of %s: %w", shop, err)
	}
	return out, nil
}

// OpenAnswersQuery filters the open answers of a survey.
type OpenAnswersQuery struct {
	Group  string // "" for every group
	Search string // case-insensitive substring of the why answer or a text answer
	Limit  int
	Offset int
}

// OpenAnswers returns the responses of a survey that have an open answer,
// newest first, and how many match in all.
func (s *SurveyStore) OpenAnswers(ctx context.Context, shop string, surveyID int64, q OpenAnswersQuery) ([]StoredResponse, int, error) {
	where := `sr.shop = $1 AND sr.survey_id = $2 AND (sr.why <> '' OR jsonb_path_exists(sr.answers, '$[*].text'))
		AND ($3 = '' OR sr.grp = $3)
		AND ($4 = '' OR sr.why ILIKE $4 ESCAPE '\'
			OR EXISTS (SELECT 1 FROM jsonb_array_elements(sr.answers) a WHERE a->>'text' ILIKE $4 ESCAPE '\'))`
	like := ""
	if q.Search != "" {
		like = "%" + likeEscaper.Replace(q.Search) + "%"
	}
	var total int
	if err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM survey_responses sr WHERE `+where, shop, surveyID, q.Group, like).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("open answers of %s: %w", shop, err)
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT `+responseColumns+` FROM survey_responses sr JOIN surveys sv ON sv.id = sr.survey_id
		WHERE `+where+` ORDER BY sr.submitted_at DESC, sr.customer_id LIMIT $5 OFFSET $6`,
		shop, surveyID, q.Group, like, q.Limit, q.Offset)
	if err != nil {
		return nil, 0, fmt.Errorf("open answers of %s: %w", shop, err)
	}
	out, err := pgx.CollectRows(rows, scanResponse)
	if err != nil {
		return nil, 0, fmt.Errorf("open answers of %s: %w", shop, err)
	}
	return out, total, nil
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// EachResponse calls fn with every response of a survey, oldest first, on
// a cursor: the CSV export of a survey with many answers never holds them
// all.
func (s *SurveyStore) EachResponse(ctx context.Context, shop string, surveyID int64, fn func(StoredResponse) error) error {
	rows, err := s.db.Pool.Query(ctx, `SELECT `+responseColumns+` FROM survey_responses sr JOIN surveys sv ON sv.id = sr.survey_id
		WHERE sr.shop = $1 AND sr.survey_id = $2 ORDER BY sr.submitted_at, sr.customer_id`, shop, surveyID)
	if err != nil {
		return fmt.Errorf("export responses of %s: %w", shop, err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanResponse(rows)
		if err != nil {
			return fmt.Errorf("export responses of %s: %w", shop, err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export responses of %s: %w", shop, err)
	}
	return nil
}

// Tally is the scores of the responses that share one value of a
// dimension (a group, a country…).
type Tally struct {
	Key string
	NPS survey.NPS
	CES survey.CES
	// Responses counts every response, with or without scores.
	Responses int
}

// Dimension is what results are broken down by.
type Dimension string

// The dimensions of a survey's results.
const (
	ByAll         Dimension = "all"
	ByGroup       Dimension = "group"
	ByCountry     Dimension = "country"
	BySource      Dimension = "source"
	ByVendor      Dimension = "vendor"
	ByProductType Dimension = "product_type"
	ByMonth       Dimension = "month"
)

// dimensionSQL is, per dimension, the key of a response (alias sr) and the
// joins it needs. The first purchase is the customer's earliest order
// that is no test and not cancelled (cvo.Order.IsPurchase without the
// refunds, which a survey breakdown can do without); the acquisition
// source is that order's UTM source, else its sales channel, as
// clv.AcquisitionSource. Vendors and product types are those of the first
// purchase's lines, so a customer may count under several.
var dimensionSQL = map[Dimension]struct{ key, from string }{
	ByAll:     {`''`, ``},
	ByGroup:   {`sr.grp`, ``},
	ByMonth:   {`to_char(sr.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM')`, ``},
	ByCountry: {`COALESCE(NULLIF(c.country, ''), '')`, `LEFT JOIN customers c ON c.shop = sr.shop AND c.id = sr.customer_id`},
	BySource: {`COALESCE(lower(trim(COALESCE(NULLIF(trim(fo.utm_source), ''), fo.source_name))), '')`,
		`LEFT JOIN LATERAL (SELECT o.utm_source, o.source_name FROM orders o WHERE o.shop = sr.shop AND o.customer_id = sr.customer_id
			AND NOT o.test AND o.cancelled_at IS NULL ORDER BY COALESCE(o.processed_at, o.created_at), o.id LIMIT 1) fo ON true`},
	ByVendor:      {`COALESCE(fp.vendor, '')`, firstPurchaseProducts("vendor")},
	ByProductType: {`COALESCE(fp.product_type, '')`, firstPurchaseProducts("product_type")},
}

func firstPurchaseProducts(col string) string {
	return `LEFT JOIN LATERAL (SELECT DISTINCT NULLIF(p.` + col + `, '') AS ` + col + ` FROM order_lines l
			JOIN products p ON p.shop = l.shop AND p.id = l.product_id
			WHERE l.shop = sr.shop AND l.order_id = (SELECT o.id FROM orders o WHERE o.shop = sr.shop AND o.customer_id = sr.customer_id
				AND NOT o.test AND o.cancelled_at IS NULL ORDER BY COALESCE(o.processed_at, o.created_at), o.id LIMIT 1)) fp ON true`
}

// maxTallies bounds a breakdown: a shop may sell under thousands of
// vendors, and the page shows the largest.
const maxTallies = 200

// Results breaks a survey's responses down by a dimension, the largest
// first (months in order).
func (s *SurveyStore) Results(ctx context.Context, shop string, surveyID int64, by Dimension) ([]Tally, error) {
	d, ok := dimensionSQL[by]
	if !ok {
		return nil, fmt.Errorf("results of %s: unknown dimension %q", shop, by)
	}
	order := "responses DESC, key"
	if by == ByMonth {
		order = "key"
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT `+d.key+` AS key,
			count(*) FILTER (WHERE sr.nps >= 9), count(*) FILTER (WHERE sr.nps BETWEEN 7 AND 8), count(*) FILTER (WHERE sr.nps <= 6),
			count(sr.ces), COALESCE(sum(sr.ces), 0), count(*) FILTER (WHERE sr.ces >= 5), count(*) AS responses
		FROM survey_responses sr `+d.from+`
		WHERE sr.shop = $1 AND sr.survey_id = $2
		GROUP BY 1 ORDER BY `+order+` LIMIT $3`, shop, surveyID, maxTallies)
	if err != nil {
		return nil, fmt.Errorf("results of %s by %s: %w", shop, by, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Tally, error) {
		var t Tally
		err := row.Scan(&t.Key, &t.NPS.Promoters, &t.NPS.Passives, &t.NPS.Detractors, &t.CES.Count, &t.CES.Sum, &t.CES.Easy, &t.Responses)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("results of %s by %s: %w", shop, by, err)
	}
	return out, nil
}

// GroupSizes counts the customers of each group in the shop's latest
// scoring: the denominators of the response rate. The scoring's aggregates
// hold the counts, read in 20 ms; counting the rows of a 1M-customer
// shop's scoring took 0.6-0.8 s (4 s on a busy server), and is left to
// scorings stored without them.
func (s *SurveyStore) GroupSizes(ctx context.Context, shop string) (map[string]int, error) {
	var (
		id     int64
		groups []byte
	)
	// The latest scoring is chosen first, so that only its aggregates are
	// read (each is a quarter of a megabyte on disk).
	err := s.db.Pool.QueryRow(ctx, `SELECT s.id, s.aggregates->'groups' FROM scorings s WHERE s.shop = $1 AND s.id =
		(SELECT id FROM scorings WHERE shop = $1 AND state = 'succeeded' ORDER BY id DESC LIMIT 1)`, shop).Scan(&id, &groups)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return map[string]int{}, nil
	case err != nil:
		return nil, fmt.Errorf("group sizes of %s: %w", shop, err)
	}
	out := map[string]int{}
	var counted []scoring.GroupAggregate
	if err := json.Unmarshal(groups, &counted); err == nil && counted != nil {
		for _, g := range counted {
			if g.Customers > 0 {
				out[g.Group.Slug()] = g.Customers
			}
		}
		return out, nil
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT grp, count(*) FROM customer_scores WHERE shop = $1 AND scoring_id = $2 GROUP BY grp`, shop, id)
	if err != nil {
		return nil, fmt.Errorf("group sizes of %s: %w", shop, err)
	}
	var g string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&g, &n}, func() error { out[g] = n; return nil })
	if err != nil {
		return nil, fmt.Errorf("group sizes of %s: %w", shop, err)
	}
	return out, nil
}

// GroupNPS tallies the NPS answers of every survey of the shop by the
// group the customer was in: the Segments page's NPS beside each group.
// A customer who answered several surveys counts once per survey.
func (s *SurveyStore) GroupNPS(ctx context.Context, shop string) ([]Tally, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT grp, count(*) FILTER (WHERE nps >= 9), count(*) FILTER (WHERE nps BETWEEN 7 AND 8),
			count(*) FILTER (WHERE nps <= 6), count(*)
		FROM survey_responses WHERE shop = $1 AND nps IS NOT NULL GROUP BY grp ORDER BY grp`, shop)
	if err != nil {
		return nil, fmt.Errorf("group NPS of %s: %w", shop, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Tally, error) {
		var t Tally
		err := row.Scan(&t.Key, &t.NPS.Promoters, &t.NPS.Passives, &t.NPS.Detractors, &t.Responses)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("group NPS of %s: %w", shop, err)
	}
	return out, nil
}

// ExpireResponses deletes the responses older than their survey's
// retention (the hourly retention job) and returns how many.
func (s *SurveyStore) ExpireResponses(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.db.Pool.Exec(ctx, `DELETE FROM survey_responses sr USING surveys sv
		WHERE sv.id = sr.survey_id AND sr.submitted_at < $1::timestamptz - make_interval(days => sv.retention_days)`, now)
	if err != nil {
		return 0, fmt.Errorf("expire survey responses: %w", err)
	}
	return tag.RowsAffected(), nil
}

// redactSurveyResponses deletes the customer's responses: the answers are
// the customer's own words, which no aggregate needs kept.
// A customer named only by email is found by it, so this runs before the
// customer's row loses its email.
// The customers' answer locks are held to the commit, after which
// redacted_customers names them: an answer arriving meanwhile waits, then
// stores nothing.
func redactSurveyResponses(ctx context.Context, tx pgx.Tx, shop string, c cvo.CustomerRef) error {
	ids, err := redactedCustomerIDs(ctx, tx, shop, c)
	if err != nil {
		return fmt.Errorf("survey responses: %w", err)
	}
	// One order for every taker, so two redactions never deadlock.
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for _, id := range ids {
		if err := lockSurveyAnswers(ctx, tx, shop, id); err != nil {
			return fmt.Errorf("survey responses: %w", err)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `DELETE FROM survey_responses WHERE shop = $1 AND customer_id = ANY($2)`, shop, ids); err != nil {
		return fmt.Errorf("survey responses: %w", err)
	}
	return nil
}

// exportSurveyResponses adds the customer's responses to a data request.
func exportSurveyResponses(ctx context.Context, q pgxQuerier, shop string, c cvo.CustomerRef, into map[string]any) error {
	id, ok := customerIDOf(c)
	if !ok {
		return nil
	}
	rs, err := customerResponses(ctx, q, shop, id)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(rs))
	for i, r := range rs {
		out[i] = map[string]any{"survey": r.SurveyTitle, "nps": r.NPS, "ces": r.CES, "why": r.Why, "answers": r.Answers,
			"submitted_at": r.SubmittedAt, "first_answered_at": r.FirstAt}
	}
	into["survey_responses"] = out
	return nil
}

// ResponseCounts counts each survey's responses.
func (s *SurveyStore) ResponseCounts(ctx context.Context, shop string) (map[int64]int, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT survey_id, count(*) FROM survey_responses WHERE shop = $1 GROUP BY survey_id`, shop)
	if err != nil {
		return nil, fmt.Errorf("count responses of %s: %w", shop, err)
	}
	out := map[int64]int{}
	var id int64
	var n int
	_, err = pgx.ForEachRow(rows, []any{&id, &n}, func() error { out[id] = n; return nil })
	if err != nil {
		return nil, fmt.Errorf("count responses of %s: %w", shop, err)
	}
	return out, nil
}

// Active returns the shop's active surveys, for the write-back of their
// links.
func (s *SurveyStore) Active(ctx context.Context, shop string) ([]survey.Survey, error) {
	var rows []surveyRow
	if err := s.db.Gorm.WithContext(ctx).Where("shop = ? AND status = 'active'", shop).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("active surveys of %s: %w", shop, err)
	}
	out := make([]survey.Survey, len(rows))
	for i, r := range rows {
		out[i] = r.survey()
	}
	return out, nil
}

// ScoredCustomers lists the customers of each group in the shop's latest
// scoring, at most perGroup each, in id order: the demo samples its
// respondents from them.
func (s *SurveyStore) ScoredCustomers(ctx context.Context, shop string, perGroup int) (map[string][]int64, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT grp, customer_id FROM (
			SELECT grp, customer_id, row_number() OVER (PARTITION BY grp ORDER BY customer_id) AS n FROM customer_scores
			WHERE shop = $1 AND scoring_id = (SELECT id FROM scorings WHERE shop = $1 AND state = 'succeeded' ORDER BY id DESC LIMIT 1)) x
		WHERE n <= $2 ORDER BY grp, customer_id`, shop, perGroup)
	if err != nil {
		return nil, fmt.Errorf("scored customers of %s: %w", shop, err)
	}
	out := map[string][]int64{}
	var g string
	var id int64
	_, err = pgx.ForEachRow(rows, []any{&g, &id}, func() error { out[g] = append(out[g], id); return nil })
	if err != nil {
		return nil, fmt.Errorf("scored customers of %s: %w", shop, err)
	}
	return out, nil
}

// ImportResponses stores responses as given, their group and time
// included, keeping any the customer already gave: the demo's answers.
func (s *SurveyStore) ImportResponses(ctx context.Context, shop string, rs []survey.Response) (int64, error) {
	batch := &pgx.Batch{}
	for _, r := range rs {
		answers, err := json.Marshal(r.Answers)
		if err != nil || r.Answers == nil {
			answers = []byte("[]")
		}
		batch.Queue(`INSERT INTO survey_responses (shop, survey_id, customer_id, grp, nps, ces, why, answers, first_at, submitted_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT DO NOTHING`,
			shop, r.SurveyID, r.CustomerID, r.Group, r.NPS, r.CES, r.Why, answers, r.SubmittedAt)
	}
	br := s.db.Pool.SendBatch(ctx, batch)
	defer br.Close()
	var n int64
	for range rs {
		tag, err := br.Exec()
		if err != nil {
			return n, fmt.Errorf("import responses of %s: %w", shop, err)
		}
		n += tag.RowsAffected()
	}
	return n, nil
}
