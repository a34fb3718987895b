import type {Num, ScoringStatus, ShopInfo, SyncStatus} from './api/types';
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

export type Stage = NonNullable<NonNullable<ShopInfo['status']>['stage']>;

// WAITING are the stages with work ahead before the first figures.
const WAITING = new Set<string>(['sync_queued', 'syncing', 'scoring_queued', 'scoring']);

export const POLL_MS = 3000;
// After a failure the job queue retries on its own; the page keeps asking,
// slowly, so the merchant sees it recover without reloading.
export const FAILED_POLL_MS = 15000;

// pollDelay is how long the page waits before asking for the shop's status
// again, or undefined when there is nothing to wait for. It polls from the
// very first answer after install, which reports no sync or scoring
// running yet (the sync is only queued), until figures exist.
export function pollDelay(shop: ShopInfo | undefined): number | undefined {
  const status = shop?.status;
  if (!status) return undefined;
  if (syncRunning(status.sync) || scoringRunning(status.scoring)) return POLL_MS;
  const stage = status.stage;
  if (stage) {
    if (WAITING.has(stage)) return POLL_MS;
    if (stage === 'sync_failed' || stage === 'scoring_failed') return FAILED_POLL_MS;
    return undefined;
  }
  // A server that predates the stage: keep asking until a scoring exists.
  if (status.scoring?.last_scored_at) return undefined;
  return status.sync?.error || status.scoring?.error ? FAILED_POLL_MS : POLL_MS;
}

// Sample is what one answer said of the import: when, and rows done.
export interface Sample {
  at: number; // ms
  done: number;
}

// secondsLeft estimates the import's time left from the rate the rows came
// in between two answers; undefined until there is a rate to go by (the
// bulk operations at Shopify report no rows, and their time is not the
// import's).
export function secondsLeft(first: Sample | undefined, last: Sample | undefined, expected: Num): number | undefined {
  if (!first || !last || !isNum(expected) || expected <= 0) return undefined;
  const ms = last.at - first.at;
  const rows = last.done - first.done;
  if (ms < 1000 || rows <= 0) return undefined;
  return Math.max(0, ((expected - last.done) * ms) / rows / 1000);
}

// phaseLabel names the import's phase in the merchant's words.
export function phaseLabel(phase: string | undefined): string {
  switch ((phase ?? '').toLowerCase()) {
    case '':
    case 'idle':
    case 'queued':
      return 'Waiting to start';
    case 'exporting':
      return 'Shopify is preparing your data';
    case 'importing':
      return 'Importing records';
    case 'done':
      return 'Imported';
    default:
      return phase ?? '';
  }
}
