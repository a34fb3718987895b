package ingest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
)

// tieStep is one arrival of a version of a record: a webhook delivery
// (triggered at at; zero = without X-Shopify-Triggered-At) or a sync run
// that imported it (started at at; zero = start not known).
type tieStep struct {
	hook      bool
	version   string // a, b: the same updated_at; c: a second later
	at        time.Time
	webhookID string // set for Shopify's retry of one delivery
}

func hook(version string, at time.Time) tieStep { return tieStep{hook: true, version: version, at: at} }
func retry(version string, at time.Time, id string) tieStep {
	return tieStep{hook: true, version: version, at: at, webhookID: id}
}
func imported(version string, started time.Time) tieStep {
	return tieStep{version: version, at: started}
}

// Two changes of one record within a second (a refund, then a cancel; two
// customer edits) carry the same updated_at in every payload; the one
// triggered later must end up stored, whatever order deliveries and imports
// arrive in, and replays of the earlier one must not undo it.
func TestSameSecondChangesKeepTheLaterOne(t *testing.T) {
	t.Parallel()
	base := time.Date(2024, 6, 1, 14, 30, 0, 0, time.UTC) // updated_at of a and b
	t0 := base.Add(200 * time.Millisecond)                // a triggered (the refund)
	t1 := base.Add(700 * time.Millisecond)                // b triggered (the cancel)
	early := base.Add(-time.Hour)                         // a sync that started before both
	late := base.Add(time.Hour)                           // a sync that started after both
	var none time.Time

	cases := []struct {
		name  string
		steps []tieStep
		want  string
	}{
		{"in order", []tieStep{hook("a", t0), hook("b", t1)}, "b"},
		{"in reverse order", []tieStep{hook("b", t1), hook("a", t0)}, "b"},
		{"the earlier replayed under another id after the later", []tieStep{hook("a", t0), hook("b", t1), hook("a", t0)}, "b"},
		{"Shopify's retry of the earlier after the later", []tieStep{retry("a", t0, "x"), hook("b", t1), retry("a", t0, "x")}, "b"},
		{"import of the earlier, then the later delivery", []tieStep{imported("a", early), hook("b", t1)}, "b"},
		{"import read after both, then the earlier delivery", []tieStep{imported("b", late), hook("a", t0)}, "b"},
		{"the later delivery, then an import that read before it", []tieStep{hook("b", t1), imported("a", early)}, "b"},
		{"the earlier delivery, an import read after both, the earlier again",
			[]tieStep{hook("a", t0), imported("b", late), hook("a", t0)}, "b"},
		{"import started before both read both, deliveries in reverse",
			[]tieStep{imported("b", early), hook("b", t1), hook("a", t0)}, "b"},
		{"import started before both read both, deliveries in order",
			[]tieStep{imported("b", early), hook("a", t0), hook("b", t1)}, "b"},
		{"import of unknown start, then the later delivery", []tieStep{imported("a", none), hook("b", t1)}, "b"},
		{"a later import of the same version changes nothing", []tieStep{hook("b", t1), imported("b", late), hook("a", t0)}, "b"},
		{"no header: the first of one second's versions stays", []tieStep{hook("a", none), hook("b", none)}, "a"},
		{"no header, then a triggered version of the same second", []tieStep{hook("a", none), hook("b", t1)}, "b"},
		{"a triggered version, then one without header", []tieStep{hook("b", t1), hook("a", none)}, "b"},
		{"a newer updated_at wins over a later trigger", []tieStep{hook("c", t0), hook("b", t1)}, "c"},
		{"a newer updated_at wins over a later import", []tieStep{hook("c", t0), imported("b", late)}, "c"},
	}

	for _, kind := range []string{"order", "customer"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := newWebhookEnv(t)
			for i, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					r := tieRecord{t: t, e: e, kind: kind, id: int64(1000 + i), base: base}
					for j, s := range tc.steps {
						if s.hook {
							r.deliver(s, fmt.Sprintf("tie-%s-%d-%d", kind, i, j))
						} else {
							r.importRun(s, int64(100*i+j+1))
						}
					}
					assert.Equal(t, tc.want, r.stored())
				})
			}
		})
	}
}

// tieRecord is one order or customer, in versions a, b and c.
type tieRecord struct {
	t    *testing.T
	e    *webhookEnv
	kind string
	id   int64
	base time.Time
}

func (r tieRecord) payload(version string) (string, []byte) {
	updated := r.base
	if version == "c" {
		updated = updated.Add(time.Second)
	}
	if r.kind == "customer" {
		return "customers/update", edited(r.t, "customers_update.json", map[string]any{
			"id": r.id, "updated_at": updated.Format(time.RFC3339), "email": version + "@example.com"})
	}
	set := map[string]any{"id": r.id, "updated_at": updated.Format(time.RFC3339), "name": "#" + version, "refunds": []any{}}
	if version == "a" {
		set["line_items"] = []any{map[string]any{"id": 866550311766439020, "title": "IPod Nano - 8GB", "quantity": 1, "price": "59.00"}}
	} else {
		set["cancelled_at"] = updated.Format(time.RFC3339)
	}
	return "orders/updated", edited(r.t, "orders_updated.json", set)
}

func (r tieRecord) deliver(s tieStep, id string) {
	t := r.t
	if s.webhookID != "" {
		id = fmt.Sprintf("%s-%d", s.webhookID, r.id)
	}
	topic, body := r.payload(s.version)
	ctx := context.Background()
	_, err := r.e.deliveries.Record(ctx, cvo.WebhookDelivery{Shop: testShop, ID: id, Topic: topic, Payload: body, TriggeredAt: s.at})
	require.NoError(t, err)
	require.NoError(t, r.e.deliveries.MarkHandled(ctx, testShop, id, true))
	require.NoError(t, r.e.applier.ApplyWebhook(ctx, testShop, id))
}

// importRun merges the version as a sync run started at s.at would.
func (r tieRecord) importRun(s tieStep, run int64) {
	t := r.t
	ctx := context.Background()
	_, body := r.payload(s.version)
	var rows []postgres.StageRow
	resource := postgres.ResourceOrders
	if r.kind == "customer" {
		c, err := parseCustomerWebhook(body)
		require.NoError(t, err)
		rows, resource = []postgres.StageRow{{Customer: &c}}, postgres.ResourceCustomers
	} else {
		o, lines, _, err := parseOrderWebhook(body)
		require.NoError(t, err)
		rows = append(rows, postgres.StageRow{Order: &o})
		for i := range lines {
			rows = append(rows, postgres.StageRow{Line: &lines[i]})
		}
	}
	store := postgres.NewSyncStore(r.e.db)
	stage := store.Stage(testShop, run, resource)
	require.NoError(t, stage.Reset(ctx))
	_, err := stage.Copy(ctx, &stageRows{rows: rows})
	require.NoError(t, err)
	_, err = store.Merge(ctx, stage, postgres.SyncState{Shop: testShop, RunID: run, Mode: postgres.ModeFull,
		Phase: postgres.PhaseExporting, StartedAt: s.at})
	require.NoError(t, err)
	require.NoError(t, stage.Drop(ctx))
}

// stored names the version stored.
func (r tieRecord) stored() string {
	t := r.t
	if r.kind == "customer" {
		c, found, err := postgres.NewCustomerStore(r.e.db).Get(context.Background(), testShop, r.id)
		require.NoError(t, err)
		require.True(t, found)
		return c.Email[:1]
	}
	o, lines, _, found, err := postgres.NewOrderStore(r.e.db).Get(context.Background(), testShop, r.id)
	require.NoError(t, err)
	require.True(t, found)
	// The lines are of the version stored: a has one, b and c two.
	if o.Name == "#a" {
		assert.Len(t, lines, 1)
		assert.True(t, o.CancelledAt.IsZero())
	} else {
		assert.Len(t, lines, 2)
		assert.False(t, o.CancelledAt.IsZero())
	}
	return o.Name[1:]
}

// stageRows is a StageSource over rows in memory.
type stageRows struct {
	rows []postgres.StageRow
	i    int
}

func (s *stageRows) Next() bool             { s.i++; return s.i <= len(s.rows) }
func (s *stageRows) Row() postgres.StageRow { return s.rows[s.i-1] }
func (s *stageRows) Err() error             { return nil }
