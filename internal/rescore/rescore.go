// Package rescore keeps every shop's scoring current: it decides when a
// rescore is due (after a sync, after new orders, nightly in the shop's own
// timezone, on request), runs one per shop at a time, keeps each scoring as
// a snapshot and hands the result to write-back.
package rescore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/rfm"
	"github.com/cvo-app/cvo/internal/scoring"
)

// Reason says why a rescore runs.
type Reason string

// The reasons a rescore runs.
const (
	ReasonSync     Reason = "sync"
	ReasonOrders   Reason = "orders"
	ReasonNightly  Reason = "nightly"
	ReasonManual   Reason = "manual"
	ReasonSettings Reason = "settings"
)

// Valid reports whether r is a known reason.
func (r Reason) Valid() bool {
	switch r {
	case ReasonSync, ReasonOrders, ReasonNightly, ReasonManual, ReasonSettings:
		return true
	}
	return false
}

// ErrBusy means another worker is rescoring the shop; the job retries later.
var ErrBusy = errors.New("a rescore of this shop is already running")

// History streams a shop's stored orders and customers.
type History interface {
	ShopOrders(ctx context.Context, shop string, fn func(cvo.Order) error) error
	ShopCustomers(ctx context.Context, shop string, fn func(cvo.Customer) error) error
}

// Snapshots keeps scoring runs.
type Snapshots interface {
	Begin(ctx context.Context, shop, reason string, asOf time.Time) (int64, error)
	FinishRows(ctx context.Context, shop string, id int64, scores postgres.ScoreRows, aggregates *scoring.Aggregates) error
	Fail(ctx context.Context, shop string, id int64, reason string) error
	LatestInfo(ctx context.Context, shop string) (cvo.Scoring, error)
	EachGroup(ctx context.Context, shop string, scoringID int64, fn func(customerID int64, g rfm.Group)) error
	RequestRescore(ctx context.Context, shop string, at time.Time) error
	RescoreRequestedAt(ctx context.Context, shop string) (time.Time, error)
	LockRescore(ctx context.Context, shop string) (lock *postgres.ShopLock, ok bool, err error)
	// FailRunning marks failed the shop's runs still running; called under
	// the lock, when they can only belong to a dead worker.
	FailRunning(ctx context.Context, shop string) (int64, error)
}

// Settings reads a shop's settings.
type Settings interface {
	Get(ctx context.Context, shop string) (cvo.Settings, error)
}

// Shops reads a shop's installation.
type Shops interface {
	Get(ctx context.Context, shop string) (cvo.Shop, error)
}

// Scorer turns a shop's history into per-customer scores and the
// aggregates the admin page shows.
type Scorer interface {
	Score(ctx context.Context, in Input) (scores Scores, aggregates *scoring.Aggregates, err error)
}

// Scores are a scoring's per-customer rows, read one at a time: a scorer
// may make each row when it is read (cvo.CustomerScores holds them).
type Scores interface {
	Len() int
	Row(i int) cvo.CustomerScore
}

// AllRows makes every row of s, for a reader that wants them at once.
func AllRows(s Scores) cvo.CustomerScores {
	out := make(cvo.CustomerScores, s.Len())
	for i := range out {
		out[i] = s.Row(i)
	}
	return out
}

// Input is what one scoring of a shop needs.
type Input struct {
	Shop     cvo.Shop
	Settings cvo.Settings
	AsOf     time.Time
	// PreviousGroups reads the customers' groups in the shop's last good
	// scoring; nil when there is none.
	PreviousGroups GroupsReader
	History        History
	// Size is the shop's size when the rescore already counted it.
	Size Size
}

// GroupsReader calls fn with each customer's ID and group in one scoring.
type GroupsReader func(ctx context.Context, fn func(customerID int64, g rfm.Group)) error

// Size is a shop's number of customers and orders.
type Size struct {
	Customers, Orders int64
	Counted           bool // the numbers were counted; zero otherwise
}

// Followers are told about a new scoring (write-back).
type Followers interface {
	Scored(ctx context.Context, shop string, scoringID int64) error
}

// Service runs rescores.
type Service struct {
	history   History
	snapshots Snapshots
	settings  Settings
	shops     Shops
	scorer    Scorer
	followers Followers
	log       *slog.Logger
	now       func() time.Time
	debounce  time.Duration
	memory    *MemoryBudget
}

// NewService wires the rescore service; followers may be nil.
func NewService(h History, snaps Snapshots, settings Settings, shops Shops, scorer Scorer, followers Followers, log *slog.Logger) *Service {
	return &Service{history: h, snapshots: snaps, settings: settings, shops: shops, scorer: scorer, followers: followers, log: log, now: time.Now, debounce: Debounce}
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// SetMemoryBudget bounds the memory of the rescores this service runs at
// once (nil: unbounded). The history must then report a shop's counts.
func (s *Service) SetMemoryBudget(b *MemoryBudget) { s.memory = b }

// SetDebounce replaces the debounce window (tests).
func (s *Service) SetDebounce(d time.Duration) { s.debounce = d }

// Rescore scores the shop now unless the work is already done: a rescore
// for new orders is skipped when a scoring started after the last order
// arrived. It returns ErrBusy when another worker holds the shop.
func (s *Service) Rescore(ctx context.Context, shop string, reason Reason) (scoringID int64, err error) {
	// Memory is reserved before the shop lock, never waited for while
	// holding it: a rescore that does not fit now retries later.
	release, size, tooBig := s.admit(ctx, shop)
	if tooBig != nil && !errors.As(tooBig, new(*TooBigError)) {
		return 0, fmt.Errorf("rescore %s: %w", shop, tooBig)
	}
	if size.Counted && tooBig == nil {
		defer returnMemory(EstimateBytes(size.Customers, size.Orders))
	}
	defer release()
	lock, ok, err := s.snapshots.LockRescore(ctx, shop)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, ErrBusy
	}
	defer lock.Release()
	// Advisory locks die with their session: a run still marked running
	// while we hold the lock was left by a worker that died. This rescore
	// is its retry.
	if n, err := s.snapshots.FailRunning(ctx, shop); err != nil {
		return 0, err
	} else if n > 0 {
		s.log.Warn("scoring left running by a dead worker marked failed", "shop", shop, "runs", n, "reason", reason)
	}

	if reason == ReasonOrders {
		covered, err := s.covered(ctx, shop)
		if err != nil || covered {
			return 0, err
		}
	}
	sh, err := s.shops.Get(ctx, shop)
	if err != nil {
		return 0, err
	}
	if !sh.Installed() {
		return 0, nil
	}
	settings, err := s.settings.Get(ctx, shop)
	if err != nil {
		return 0, err
	}
	// Read by the scorer when it wants them, after the run has begun (a
	// failure to read them fails the run, which is retried). They stay
	// the latest scoring's meanwhile: a newer one would need the lock
	// held here, and a redaction deleting them makes this run's finish
	// fail, its own scoring gone.
	var previous GroupsReader
	if last, err := s.snapshots.LatestInfo(ctx, shop); err == nil {
		previous = func(ctx context.Context, fn func(customerID int64, g rfm.Group)) error {
			return s.snapshots.EachGroup(ctx, shop, last.ID, fn)
		}
	} else if cvo.ErrorCode(err) != cvo.ENOTFOUND {
		return 0, err
	}

	asOf := s.now()
	id, err := s.snapshots.Begin(ctx, shop, string(reason), asOf)
	if err != nil {
		return 0, err
	}
	started := time.Now()
	var scores Scores = cvo.CustomerScores(nil)
	var aggregates *scoring.Aggregates
	if err = tooBig; err == nil {
		scores, aggregates, err = s.scorer.Score(ctx, Input{Shop: sh, Settings: settings, AsOf: asOf, PreviousGroups: previous, History: s.history, Size: size})
	}
	if err == nil {
		// A rescore whose lock died may have been overtaken by a newer
		// run (which failed this one) or be about to be failed by the
		// sweep: it must not become current.
		err = lock.Check(ctx)
	}
	if err == nil {
		err = s.snapshots.FinishRows(ctx, shop, id, scores, aggregates)
	}
	if err != nil {
		// The failed run is recorded; the last good scoring stays current.
		if fErr := s.snapshots.Fail(context.WithoutCancel(ctx), shop, id, failureText(err)); fErr != nil {
			s.log.Error("record failed scoring", "shop", shop, "err", fErr)
		}
		return 0, fmt.Errorf("rescore %s: %w", shop, err)
	}
	s.log.Info("shop rescored", "shop", shop, "reason", reason, "scoring_id", id, "customers", scores.Len(),
		"seconds", time.Since(started).Seconds())
	if s.followers != nil {
		if err := s.followers.Scored(ctx, shop, id); err != nil {
			return id, fmt.Errorf("after rescore of %s: %w", shop, err)
		}
	}
	return id, nil
}

// admit reserves the memory the shop's rescore needs, and returns the
// shop's size it counted for that (the scorer sizes its builder by it). A
// *TooBigError comes back with a no-op release, so that the rescore
// records why it failed; any other error means the rescore must not start
// now.
func (s *Service) admit(ctx context.Context, shop string) (release func(), size Size, err error) {
	noop := func() {}
	if s.memory == nil {
		return noop, size, nil
	}
	c, ok := s.history.(counter)
	if !ok {
		return noop, size, nil
	}
	if size.Customers, size.Orders, err = c.Counts(ctx, shop); err != nil {
		return noop, Size{}, fmt.Errorf("count the shop's records: %w", err)
	}
	size.Counted = true
	release, err = s.memory.Reserve(shop, EstimateBytes(size.Customers, size.Orders))
	if err != nil {
		return noop, size, err
	}
	return release, size, nil
}

// covered says whether the latest scoring started after the last request.
func (s *Service) covered(ctx context.Context, shop string) (bool, error) {
	requested, err := s.snapshots.RescoreRequestedAt(ctx, shop)
	if err != nil {
		return false, err
	}
	last, err := s.snapshots.LatestInfo(ctx, shop)
	if cvo.ErrorCode(err) == cvo.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return !requested.IsZero() && last.StartedAt.After(requested), nil
}

// failureText keeps merchant-facing failure reasons free of internals.
func failureText(err error) string {
	var e *cvo.Error
	if errors.As(err, &e) {
		return e.Message
	}
	if errors.As(err, new(*TooBigError)) {
		return "This shop's history needs more memory to score than the app's workers are given; it will be scored once they are given more."
	}
	return "Scoring failed; it will be retried."
}

// Queue schedules rescore jobs.
type Queue interface {
	EnqueueRescore(ctx context.Context, shop string, reason string, due Due) error
}

// Due says when and under which identity a rescore job runs: jobs with the
// same Key are one job, however many times they are enqueued.
type Due struct {
	Key   string
	After time.Duration
}

// Debounce is how long new orders wait before the rescore they trigger, so
// a burst of webhooks gives one rescore.
const Debounce = 2 * time.Minute

// RequestAfterOrders asks for a rescore because orders changed. Every
// request inside one debounce window maps to the same job.
func (s *Service) RequestAfterOrders(ctx context.Context, q Queue, shop string) error {
	now := s.now()
	if err := s.snapshots.RequestRescore(ctx, shop, now); err != nil {
		return err
	}
	window := now.Truncate(s.debounce).UnixMilli()
	return q.EnqueueRescore(ctx, shop, string(ReasonOrders), Due{Key: fmt.Sprintf("orders:%d", window), After: s.debounce})
}

// Abandoned finds scorings left running by workers that died.
type Abandoned interface {
	FailAbandoned(ctx context.Context) ([]cvo.Scoring, error)
}

// RecoverAbandoned marks failed the scorings whose worker died (no one
// holds their shop's lock) and queues each shop's rescore again. asynq
// retries a task whose worker died once its lease runs out; this covers a
// task Redis lost. The job key carries the failed run, so sweeps by
// several schedulers queue one retry per run.
func (s *Service) RecoverAbandoned(ctx context.Context, a Abandoned, q Queue) (int, error) {
	runs, err := a.FailAbandoned(ctx)
	if err != nil {
		return 0, err
	}
	for i, run := range runs {
		s.log.Warn("scoring left running by a dead worker marked failed", "shop", run.Shop, "scoring_id", run.ID)
		if err := q.EnqueueRescore(ctx, run.Shop, run.Reason, Due{Key: fmt.Sprintf("recover:%d", run.ID)}); err != nil {
			return i, err
		}
	}
	return len(runs), nil
}

// Installed lists installed shops.
type Installed interface {
	ListInstalled(ctx context.Context) ([]string, error)
}

// EnqueueNightly queues the nightly rescore of every shop whose local time
// has reached its nightly hour today. The job key carries the shop's local
// date, so any number of sweeps (several scheduler processes) queue one
// rescore per shop per night.
func (s *Service) EnqueueNightly(ctx context.Context, installed Installed, q Queue) (queued int, err error) {
	shops, err := installed.ListInstalled(ctx)
	if err != nil {
		return 0, err
	}
	now := s.now()
	for _, shop := range shops {
		sh, err := s.shops.Get(ctx, shop)
		if err != nil {
			return queued, err
		}
		settings, err := s.settings.Get(ctx, shop)
		if err != nil {
			return queued, err
		}
		loc, err := time.LoadLocation(sh.Timezone)
		if err != nil || sh.Timezone == "" {
			loc = time.UTC
		}
		local := now.In(loc)
		if local.Hour() < settings.NightlyHour {
			continue
		}
		if err := q.EnqueueRescore(ctx, shop, string(ReasonNightly), Due{Key: "nightly:" + local.Format("2006-01-02")}); err != nil {
			return queued, err
		}
		queued++
	}
	return queued, nil
}
