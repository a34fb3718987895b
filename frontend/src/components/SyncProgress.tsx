import {Banner, BlockStack, Card, InlineStack, ProgressBar, Spinner, Text} from '@shopify/polaris';

import type {ShopInfo} from '../api/types';
import {useApp} from '../context';
import {scoringRunning, syncPercent, syncRunning} from '../sync';

// SyncProgress shows the history sync while it runs, then a scoring run in
// progress, and either's failure; it renders nothing when all is idle.
export function SyncProgress({shop}: {shop: ShopInfo}) {
  const {fmt} = useApp();
  const sync = shop.status?.sync;
  const scoring = shop.status?.scoring;
  if (sync?.error) {
    return (
      <Banner tone="critical" title="The order history sync failed">
        <p>{sync.error}</p>
      </Banner>
    );
  }
  if (!syncRunning(sync)) {
    if (scoringRunning(scoring)) {
      return (
        <Card>
          <InlineStack gap="300" blockAlign="center">
            <Spinner size="small" accessibilityLabel="Scoring in progress" />
            <Text as="p">Scoring your customers… the figures update when it finishes.</Text>
          </InlineStack>
        </Card>
      );
    }
    if (scoring?.error) {
      return (
        <Banner tone="warning" title="Scoring failed">
          <p>{scoring.error}</p>
        </Banner>
      );
    }
    return null;
  }
  const pct = syncPercent(sync);
  const rows =
    sync?.rows_done != null
      ? sync?.rows_expected != null
        ? `${fmt.integer(sync.rows_done)} of ${fmt.integer(sync.rows_expected)} records`
        : `${fmt.integer(sync.rows_done)} records`
      : undefined;
  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack align="space-between" blockAlign="center">
          <Text as="h2" variant="headingMd">
            Importing your order history
          </Text>
          <Text as="span" tone="subdued">
            <span data-sync-phase>{sync?.phase || 'starting'}</span>
          </Text>
        </InlineStack>
        <ProgressBar progress={pct ?? 0} size="small" tone="primary" ariaLabelledBy="cvo-sync-label" />
        <Text as="p" variant="bodySm" tone="subdued" id="cvo-sync-label">
          {pct !== undefined ? `${fmt.percent(pct / 100)} done` : 'Working…'}
          {rows ? ` · ${rows}` : ''}
          {sync?.started_at ? ` · started ${fmt.dateTime(sync.started_at)}` : ''}
        </Text>
      </BlockStack>
    </Card>
  );
}
