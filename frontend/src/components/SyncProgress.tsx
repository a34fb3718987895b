import {Banner, BlockStack, Card, InlineStack, ProgressBar, Spinner, Text} from '@shopify/polaris';
import {useEffect, useRef, useState} from 'react';

import type {ShopInfo, SyncStatus} from '../api/types';
import {useApp} from '../context';
import type {Formatter} from '../format';
import {isNum} from '../format';
import type {Sample} from '../sync';
import {phaseLabel, scoringRunning, secondsLeft, syncPercent, syncRunning} from '../sync';

// SyncProgress shows the way to the shop's figures from the first answer
// after install: the import waiting to start, its progress (phase, records,
// percent, time left), the scoring waiting and running, and either's
// failure. It renders nothing when all is idle.
export function SyncProgress({shop}: {shop: ShopInfo}) {
  const {fmt} = useApp();
  const sync = shop.status?.sync;
  const scoring = shop.status?.scoring;
  const stage = shop.status?.stage;
  const rate = useImportRate(sync);
  if (sync?.error) {
    return (
      <div data-progress="sync_failed">
        <Banner tone="critical" title="The order history import failed">
          <p>{sync.error}</p>
          <p>It is tried again automatically; this page updates when it succeeds.</p>
        </Banner>
      </div>
    );
  }
  if (syncRunning(sync) || stage === 'syncing' || stage === 'sync_queued') {
    return <ImportCard sync={sync} queued={!syncRunning(sync) && stage === 'sync_queued'} fmt={fmt} left={rate} />;
  }
  if (scoringRunning(scoring) || stage === 'scoring') {
    return (
      <Card>
        <div data-progress="scoring">
          <InlineStack gap="300" blockAlign="center" wrap={false}>
            <Spinner size="small" accessibilityLabel="Scoring in progress" />
            <Text as="p">Scoring your customers… the figures appear here when it finishes.</Text>
          </InlineStack>
        </div>
      </Card>
    );
  }
  if (stage === 'scoring_queued') {
    return (
      <Card>
        <div data-progress="scoring_queued">
          <InlineStack gap="300" blockAlign="center" wrap={false}>
            <Spinner size="small" accessibilityLabel="Scoring about to start" />
            <Text as="p">
              Order history imported{isNum(sync?.rows_done) && sync.rows_done > 0 ? ` (${fmt.integer(sync.rows_done)} records)` : ''}. Scoring
              starts in a moment.
            </Text>
          </InlineStack>
        </div>
      </Card>
    );
  }
  if (scoring?.error) {
    return (
      <div data-progress="scoring_failed">
        <Banner tone="warning" title="Scoring failed">
          <p>{scoring.error}</p>
        </Banner>
      </div>
    );
  }
  return null;
}

function ImportCard({sync, queued, fmt, left}: {sync: SyncStatus | undefined; queued: boolean; fmt: Formatter; left: number | undefined}) {
  const pct = queued ? undefined : syncPercent(sync);
  const rows =
    isNum(sync?.rows_done) && sync.rows_done > 0
      ? isNum(sync?.rows_expected) && sync.rows_expected > 0
        ? `${fmt.integer(sync.rows_done)} of ${fmt.integer(sync.rows_expected)} records`
        : `${fmt.integer(sync.rows_done)} records`
      : undefined;
  const parts = [
    queued ? 'The import starts in a moment' : pct !== undefined && pct > 0 ? `${fmt.percent(pct / 100)} done` : 'Working…',
    rows,
    left !== undefined ? timeLeft(left) : undefined,
    sync?.started_at ? `started ${fmt.dateTime(sync.started_at)}` : undefined,
  ].filter(Boolean);
  return (
    <Card>
      <div data-progress={queued ? 'sync_queued' : 'syncing'}>
        <BlockStack gap="300">
          <InlineStack align="space-between" blockAlign="center" gap="200">
            <Text as="h2" variant="headingMd">
              Importing your order history
            </Text>
            <Text as="span" tone="subdued">
              <span data-sync-phase={sync?.phase || 'queued'}>{queued ? phaseLabel('queued') : phaseLabel(sync?.phase)}</span>
            </Text>
          </InlineStack>
          <ProgressBar progress={pct ?? 0} size="small" tone="primary" ariaLabelledBy="cvo-sync-label" />
          <Text as="p" variant="bodySm" tone="subdued" id="cvo-sync-label">
            {parts.join(' · ')}
          </Text>
          <Text as="p" variant="bodySm" tone="subdued">
            Then your customers are scored. This page updates by itself; you can leave it open.
          </Text>
        </BlockStack>
      </div>
    </Card>
  );
}

// timeLeft says the estimate the way a person would, rounded up.
export function timeLeft(seconds: number): string {
  if (seconds < 60) return 'less than a minute left';
  const min = Math.ceil(seconds / 60);
  if (min < 90) return `about ${min} ${min === 1 ? 'minute' : 'minutes'} left`;
  const h = Math.round(min / 60);
  return `about ${h} ${h === 1 ? 'hour' : 'hours'} left`;
}

// useImportRate remembers, for the import under way, the first answer that
// reported rows and the latest, and estimates the time left between them.
function useImportRate(sync: SyncStatus | undefined): number | undefined {
  const seen = useRef<{run?: string; first?: Sample; last?: Sample}>({});
  const [left, setLeft] = useState<number>();
  const run = sync?.started_at ?? '';
  const done = sync?.rows_done;
  const expected = sync?.rows_expected;
  const running = syncRunning(sync);
  useEffect(() => {
    if (seen.current.run !== run) seen.current = {run};
    if (!running || !isNum(done) || done <= 0) {
      setLeft(undefined);
      return;
    }
    if (seen.current.last?.done !== done) {
      const sample = {at: Date.now(), done};
      seen.current.first ??= sample;
      seen.current.last = sample;
    }
    setLeft(secondsLeft(seen.current.first, seen.current.last, expected));
  }, [run, done, expected, running]);
  return left;
}
