package rescore

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/cvo-app/cvo/internal/activation"
	"github.com/cvo-app/cvo/internal/cvo"
)

// ScoreReader reads a scoring's per-customer rows.
type ScoreReader interface {
	LatestInfo(ctx context.Context, shop string) (cvo.Scoring, error)
	Customers(ctx context.Context, shop string, scoringID int64, fn func(cvo.CustomerScore) error) error
}

// Writer writes results back to Shopify (activation.Writer).
type Writer interface {
	EnsureSetup(ctx context.Context, shop string, s cvo.Settings) error
	Apply(ctx context.Context, shop string, s cvo.Settings, scores []activation.Score) (activation.Report, error)
}

// WritebackQueue schedules write-back jobs.
type WritebackQueue interface {
	EnqueueWriteback(ctx context.Context, shop string, scoringID int64) error
}

// Writeback writes each new scoring back to Shopify. As a Followers it
// only queues the job, so a rescore never waits on Shopify's API.
type Writeback struct {
	scores   ScoreReader
	settings Settings
	writer   Writer
	queue    WritebackQueue
	log      *slog.Logger
}

// NewWriteback wires write-back.
func NewWriteback(scores ScoreReader, settings Settings, writer Writer, queue WritebackQueue, log *slog.Logger) *Writeback {
	return &Writeback{scores: scores, settings: settings, writer: writer, queue: queue, log: log}
}

// Scored implements Followers.
func (w *Writeback) Scored(ctx context.Context, shop string, scoringID int64) error {
	return w.queue.EnqueueWriteback(ctx, shop, scoringID)
}

// Write writes the shop's latest scoring back; a job for an older scoring
// writes the latest instead, since only the newest tags are right. Before
// the first scoring it only sets the shop up (metafield definitions and
// segments), which is what the job queued at install does.
func (w *Writeback) Write(ctx context.Context, shop string) error {
	settings, err := w.settings.Get(ctx, shop)
	if err != nil {
		return err
	}
	if err := w.writer.EnsureSetup(ctx, shop, settings); err != nil {
		return fmt.Errorf("write-back set-up for %s: %w", shop, err)
	}
	latest, err := w.scores.LatestInfo(ctx, shop)
	if cvo.ErrorCode(err) == cvo.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	// The scores are kept in the write-back's compact form as they are
	// read (56 bytes a customer); the write-back holds little more, and
	// peaks at about 200 bytes a customer of RSS.
	defer returnMemory(int64(latest.Customers) * 200)
	scores := make([]activation.Score, 0, latest.Customers)
	if err := w.scores.Customers(ctx, shop, latest.ID, func(c cvo.CustomerScore) error {
		sc, err := activation.NewScore(c)
		if err != nil {
			return fmt.Errorf("write back scoring %d of %s: %w", latest.ID, shop, err)
		}
		scores = append(scores, sc)
		return nil
	}); err != nil {
		return err
	}
	rep, err := w.writer.Apply(ctx, shop, settings, scores)
	if err != nil {
		return fmt.Errorf("write back scoring %d of %s: %w", latest.ID, shop, err)
	}
	w.log.Info("written back", "shop", shop, "scoring_id", latest.ID, "report", rep)
	return nil
}
