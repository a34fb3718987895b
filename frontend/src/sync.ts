import type {ScoringStatus, SyncStatus} from './api/types';
import {isNum} from './format';

const IDLE_PHASES = new Set(['', 'idle', 'done', 'finished', 'complete', 'completed', 'failed', 'error', 'none']);

// syncRunning decides from GET /api/shop's status whether a history sync is
// under way (and the page should show progress and keep polling).
export function syncRunning(sync: SyncStatus | undefined): boolean {
  if (!sync) return false;
  if (sync.error || sync.finished_at) return false;
  const phase = (sync.phase ?? '').toLowerCase();
  if (IDLE_PHASES.has(phase)) return !!sync.started_at && phase === '';
  return true;
}

// syncPercent is the progress bar's value, 0..100: the server's percent
// when it sends one, else rows done over rows expected.
export function syncPercent(sync: SyncStatus | undefined): number | undefined {
  if (!sync) return undefined;
  if (isNum(sync.percent)) return clamp(sync.percent);
  if (isNum(sync.rows_done) && isNum(sync.rows_expected) && sync.rows_expected > 0) {
    return clamp((100 * sync.rows_done) / sync.rows_expected);
  }
  return undefined;
}

function clamp(v: number): number {
  return Math.max(0, Math.min(100, v));
}

const SCORING_BUSY = new Set(['queued', 'pending', 'running', 'scoring', 'writing', 'started']);

// scoringRunning says whether a scoring run is queued or under way.
export function scoringRunning(scoring: ScoringStatus | undefined): boolean {
  return !!scoring && !scoring.error && SCORING_BUSY.has((scoring.state ?? '').toLowerCase());
}

// dataVersion changes whenever the figures behind the pages may have
// changed: a sync finished or a scoring run finished.
export function dataVersion(sync: SyncStatus | undefined, scoring: ScoringStatus | undefined): string {
  return [sync?.finished_at ?? '', scoring?.last_scored_at ?? '', scoringRunning(scoring) ? 'busy' : 'idle'].join('|');
}
