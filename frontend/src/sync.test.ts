import {describe, expect, it} from 'vitest';

import {syncPercent, syncRunning} from './sync';

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
