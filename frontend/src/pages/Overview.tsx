import {Badge, Banner, BlockStack, Card, InlineStack, Layout, Text} from '@shopify/polaris';

import type {Overview} from '../api/types';
import {useApi} from '../api/useApi';
import {LineChart} from '../components/LineChart';
import {Metric, MetricGrid} from '../components/Metric';
import {DeliveriesNotice} from '../components/DeliveriesNotice';
import {Defined, HowComputed} from '../components/HowComputed';
import {DataPage} from '../components/PageState';
import type {TermId} from '../glossary';
import {TERMS} from '../glossary';
import {SyncProgress} from '../components/SyncProgress';
import {useApp} from '../context';
import {isNum} from '../format';
import {pollDelay} from '../sync';

export function OverviewPage() {
  const {fmt, shop} = useApp();
  // Before the first scoring the page keeps asking (App polls the shop's
  // stage), so the empty card says what happens next, not that it failed.
  const waiting = !shop.status?.scoring?.last_scored_at && pollDelay(shop) !== undefined;
  const state = useApi('overview', (api, signal) => api.GET('/overview', {signal}));

  return (
    <DataPage
      name="overview"
      title="Overview"
      subtitle={shop.name || shop.shop}
      state={state}
      notice={
        <>
          <SyncProgress shop={shop} />
          <DeliveriesNotice shop={shop} />
        </>
      }
      isEmpty={(d) => !isNum(d.customers) && !d.retention_trend?.length}
      emptyText={
        waiting ? 'Your figures appear here by themselves as soon as your customers are scored.' : undefined
      }
    >
      {(d) => (
        <Layout>
          <Layout.Section>
            <BlockStack gap="400">
              {d.warnings?.length ? (
                <Banner tone="warning" title="Some figures need care">
                  <ul className="cvo-list">
                    {d.warnings.map((w) => (
                      <li key={w}>{w}</li>
                    ))}
                  </ul>
                </Banner>
              ) : null}
              {d.model?.fallback ? (
                <Banner tone="info" title="Predictions use the simple model">
                  <p>{d.model.reason || 'There is not enough purchase history to fit the full model yet.'}</p>
                </Banner>
              ) : null}
              <MetricGrid>
                <Metric id="customers" term="customers" value={fmt.integer(d.customers)} />
                {/* The API's retention_rate is Shopify's returning customer
                    rate; its repeat_rate, the returning customers' share of
                    orders. */}
                <Metric id="retention_rate" term="returning_customer_rate" value={fmt.percent(d.retention_rate)} />
                <Metric id="repeat_rate" term="returning_orders_share" value={fmt.percent(d.repeat_rate)} />
                <Metric id="avg_historical_clv" term="avg_historical_clv" value={fmt.money(d.avg_historical_clv)} />
                <Metric id="avg_predicted_clv" term="avg_predicted_clv" value={fmt.money(d.avg_predicted_clv)} />
                <Metric
                  id="clv_cac"
                  term="clv_cac"
                  // The server sends 0 when no acquisition cost is set.
                  value={isNum(d.clv_cac) && d.clv_cac > 0 ? fmt.ratio(d.clv_cac) : '—'}
                  help={isNum(d.clv_cac) && d.clv_cac > 0 ? undefined : 'Set your acquisition cost in Settings.'}
                />
                <Metric
                  id="top_groups_revenue_share"
                  term="top_groups_revenue_share"
                  value={fmt.percent(d.top_groups_revenue_share)}
                />
              </MetricGrid>
            </BlockStack>
          </Layout.Section>
          <Layout.Section>
            <RetentionTrend trend={d.retention_trend ?? []} />
          </Layout.Section>
          <Layout.Section>
            <Card>
              <BlockStack gap="200">
                <Text as="h2" variant="headingMd">
                  Predictions
                </Text>
                <InlineStack gap="200" blockAlign="center">
                  <Text as="span">Made with the {modelName(d.model?.name)} model (see How this is computed)</Text>
                  {d.model?.fallback ? <Badge tone="attention">Fallback</Badge> : null}
                </InlineStack>
                <Text as="p" tone="subdued">
                  Last scored: <span data-metric="scored_at">{fmt.dateTime(d.scored_at)}</span>
                </Text>
              </BlockStack>
            </Card>
          </Layout.Section>
          <Layout.Section>
            <HowComputed
              // Every computed figure of every page, in one place.
              terms={Object.keys(TERMS) as TermId[]}
              models
            />
          </Layout.Section>
        </Layout>
      )}
    </DataPage>
  );
}

// RetentionTrend is each month's own returning customer rate: by period,
// not cumulative (a cumulative rate climbs with time alone). The chart has
// the complete months after the first of the history (in which nobody can
// have ordered before); the current month, not over, is stated apart with
// its figure so far, never drawn as a fall to 0%.
export function RetentionTrend({trend}: {trend: NonNullable<Overview['retention_trend']>}) {
  const {fmt} = useApp();
  const complete = trend.slice(1).filter((t) => !t.partial && isNum(t.returning_rate) && (t.buyers ?? 0) > 0);
  const points = complete.map((t, i) => ({x: i, y: t.returning_rate as number, xLabel: fmt.month(t.month), yLabel: fmt.percent(t.returning_rate)}));
  const current = trend.length > 1 ? trend[trend.length - 1] : undefined;
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          <Defined term="returning_rate_by_month" />
        </Text>
        {points.length === 0 ? (
          <Text as="p" tone="subdued">
            No returning customers by month yet.
          </Text>
        ) : (
          <LineChart
            chart="retention"
            title="Returning customer rate by month"
            description={`Of each month's customers, the share who had ordered before, from ${points[0].xLabel} to ${points[points.length - 1].xLabel}.`}
            points={points}
            xHeading="Month"
            yHeading="Returning customer rate"
            yFormat={(v) => fmt.percent(v)}
          />
        )}
        {current?.partial ? (
          <Text as="p" tone="subdued">
            <span data-metric="retention_partial">
              {fmt.month(current.month)} so far (the month is not over):{' '}
              {(current.buyers ?? 0) > 0
                ? `${fmt.percent(current.returning_rate)} of ${fmt.integer(current.buyers)} ${current.buyers === 1 ? 'customer' : 'customers'} had ordered before.`
                : 'no orders yet.'}
            </span>
          </Text>
        ) : null}
      </BlockStack>
    </Card>
  );
}

const MODEL_NAMES: Record<string, string> = {
  bgnbd: 'BG/NBD',
  mbgnbd: 'MBG/NBD',
  empirical: 'Empirical averages',
};

export function modelName(name: string | undefined): string {
  if (!name) return '—';
  return MODEL_NAMES[name.toLowerCase()] ?? name;
}
