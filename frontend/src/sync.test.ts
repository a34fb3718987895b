import {describe, expect, it} from 'vitest';

import type {ShopInfo} from './api/types';
import {FAILED_POLL_MS, POLL_MS, pollDelay, secondsLeft, syncPercent, syncRunning} from './sync';

describe('syncRunning', () => {
  it.each([
    [undefined, false],
    [{}, false],
    [{phase: 'orders', started_at: '2026-01-01T00:00:00Z'}, true],
    [{phase: 'bulk_running'}, true],
    [{phase: 'orders', error: 'throttled'}, false],
    [{phase: 'orders', finished_at: '2026-01-01T00:00:00Z'}, false],
    [{phase: 'done'}, false],
    [{phase: 'Finished'}, false],
    [{phase: '', started_at: '2026-01-01T00:00:00Z'}, true],
  ])('%j -> %s', (sync, want) => {
    expect(syncRunning(sync)).toBe(want);
  });
});

describe('syncPercent', () => {
  it('prefers the server percent and clamps it', () => {
    expect(syncPercent({percent: 42, rows_done: 1, rows_expected: 2})).toBe(42);
    expect(syncPercent({percent: 140})).toBe(100);
  });
  it('falls back to rows done over rows expected', () => {
    expect(syncPercent({rows_done: 250, rows_expected: 1000})).toBe(25);
    expect(syncPercent({rows_done: 250, rows_expected: 0})).toBeUndefined();
    expect(syncPercent({rows_done: 250})).toBeUndefined();
  });
});

describe('pollDelay', () => {
  const shop = (status: object) => ({shop: 'x.myshopify.com', status});
  it.each([
    ['no answer yet', undefined, undefined],
    ['first answer after install: sync only queued', shop({stage: 'sync_queued', sync: {phase: ''}, scoring: {state: 'none'}}), POLL_MS],
    ['imported, scoring queued', shop({stage: 'scoring_queued', sync: {phase: 'done', finished_at: 'x'}, scoring: {state: 'none'}}), POLL_MS],
    ['scoring', shop({stage: 'scoring', scoring: {state: 'running'}}), POLL_MS],
    ['ready', shop({stage: 'ready', scoring: {state: 'succeeded', last_scored_at: 'x'}}), undefined],
    ['ready, a resync running', shop({stage: 'ready', sync: {phase: 'importing', started_at: 'x'}, scoring: {last_scored_at: 'x'}}), POLL_MS],
    ['sync failed', shop({stage: 'sync_failed', sync: {phase: 'failed', error: 'e'}}), FAILED_POLL_MS],
    ['older server, not scored yet', shop({sync: {phase: ''}, scoring: {state: 'none'}}), POLL_MS],
    ['older server, scored', shop({sync: {phase: 'done'}, scoring: {state: 'succeeded', last_scored_at: 'x'}}), undefined],
  ])('%s', (_name, s, want) => {
    expect(pollDelay(s as ShopInfo | undefined)).toBe(want);
  });
});

describe('secondsLeft', () => {
  it('goes by the rate rows arrived between two answers', () => {
    expect(secondsLeft({at: 0, done: 1000}, {at: 10000, done: 3000}, 13000)).toBe(50);
  });
  it('gives no estimate without a rate or a total', () => {
    expect(secondsLeft(undefined, {at: 1, done: 1}, 10)).toBeUndefined();
    expect(secondsLeft({at: 0, done: 5}, {at: 0, done: 5}, 10)).toBeUndefined();
    expect(secondsLeft({at: 0, done: 5}, {at: 5000, done: 5}, 10)).toBeUndefined();
    expect(secondsLeft({at: 0, done: 5}, {at: 5000, done: 9}, 0)).toBeUndefined();
  });
});
