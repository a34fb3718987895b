import {BlockStack, Card, Layout, Text} from '@shopify/polaris';

import type {BacktestRow, IcpShare, IcpView} from '../api/normalize';
import {readBacktest, readIcp} from '../api/normalize';
import type {Anomaly, Insights, Num} from '../api/types';
import {useApi} from '../api/useApi';
import {BarChart} from '../components/BarChart';
import {FreeFormSection, humanize} from '../components/FreeForm';
import {crosswalkGrid} from '../components/crosswalk';
import {Heatmap} from '../components/Heatmap';
import {LineChart} from '../components/LineChart';
import {Metric, MetricGrid} from '../components/Metric';
import {DataPage} from '../components/PageState';
import type {Column} from '../components/SortableTable';
import {SortableTable} from '../components/SortableTable';
import {useApp} from '../context';
import {PredictionCheck} from './Prediction';
import type {Formatter} from '../format';
import {isNum} from '../format';

export function InsightsPage() {
  const state = useApi('insights', (api, signal) => api.GET('/insights', {signal}));
  return (
    <DataPage
      name="insights"
      title="Insights"
      state={state}
      isEmpty={(d) => !d.pareto && !d.anomalies?.length && !d.icp && !d.backtest && !d.prediction}
    >
      {(d) => (
        <Layout>
          <Layout.Section>
            <Pareto pareto={d.pareto} />
          </Layout.Section>
          <Layout.Section>
            <Anomalies anomalies={d.anomalies ?? []} />
          </Layout.Section>
          <Layout.Section>
            <Icp icp={d.icp} />
          </Layout.Section>
          <Layout.Section>
            <PredictionCheck prediction={d.prediction} />
          </Layout.Section>
          <Layout.Section>
            <Backtest raw={d.backtest} />
          </Layout.Section>
          <Layout.Section>
            <Crosswalk cw={d.shopify_crosswalk} />
          </Layout.Section>
        </Layout>
      )}
    </DataPage>
  );
}

// Crosswalk puts our eleven groups beside Shopify's own RFM groups
// (Customer.statistics.rfmGroup), so a merchant sees where the two agree
// and where ours is finer.
function Crosswalk({cw}: {cw: Insights['shopify_crosswalk']}) {
  const {fmt} = useApp();
  const grid = crosswalkGrid(cw);
  const withShopify = cw?.with_shopify_group ?? 0;
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          Our groups beside Shopify&apos;s
        </Text>
        <Text as="p" tone="subdued">
          Customers in each of our groups by the RFM group Shopify gives them. Shopify named a group for{' '}
          <span data-metric="crosswalk_with_shopify">{fmt.integer(withShopify)}</span> of {fmt.integer(grid.total)} scored
          customers.
        </Text>
        {grid.total && grid.colLabels.length ? (
          <Heatmap
            chart="shopify-crosswalk"
            caption="Our groups (rows) against Shopify's RFM groups (columns), in customers"
            cornerLabel="Our group \ Shopify's group"
            rowLabels={grid.rowLabels}
            colLabels={grid.colLabels}
            values={grid.values}
            format={(v) => fmt.integer(v)}
            cellLabel={(i, j, v) => `${grid.rowLabels[i]} in Shopify's ${grid.colLabels[j]}: ${fmt.integer(v)} customers`}
            dense={grid.colLabels.length > 8}
          />
        ) : (
          <Text as="p" tone="subdued">
            No scored customers to compare yet.
          </Text>
        )}
      </BlockStack>
    </Card>
  );
}

function Pareto({pareto}: {pareto: Insights['pareto']}) {
  const {fmt} = useApp();
  const points = (pareto?.curve ?? [])
    .filter((p) => isNum(p.customers_share) && isNum(p.revenue_share))
    .map((p) => ({
      x: p.customers_share as number,
      y: p.revenue_share as number,
      xLabel: fmt.percent(p.customers_share),
      yLabel: fmt.percent(p.revenue_share),
    }));
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          Who brings the revenue
        </Text>
        <MetricGrid>
          <Metric id="top20_revenue_share" label="Revenue from the top 20% of customers" value={fmt.percent(pareto?.top20_revenue_share)} />
          <Metric id="top20_margin_share" label="Margin from the top 20% of customers" value={fmt.percent(pareto?.top20_margin_share)} />
        </MetricGrid>
        {points.length ? (
          <LineChart
            chart="pareto"
            title="Cumulative revenue share by share of customers"
            description={`Customers ranked by revenue, highest first. The top 20% bring ${fmt.percent(pareto?.top20_revenue_share)} of revenue; the dashed line is an even split.`}
            points={points}
            xHeading="Share of customers"
            yHeading="Share of revenue"
            yFormat={(v) => fmt.percent(v)}
            xFormat={(v) => fmt.wholePercent(v)}
            yMax={1}
            yTicks={[0, 0.25, 0.5, 0.75, 1]}
            reference
            referenceName="Even split"
          />
        ) : null}
      </BlockStack>
    </Card>
  );
}

// anomalyValue formats an anomaly's figure by what it measures: money for
// revenue-like months, a share for rates and for segments (whose figure is
// a repeat rate against the shop's baseline), a count otherwise.
export function anomalyValue(fmt: Formatter, a: Anomaly, v: Num): string {
  const kind = (a.kind ?? '').toLowerCase();
  if (/(revenue|margin|aov|value|sales)/.test(kind)) return fmt.money(v);
  if (/(share|rate)/.test(kind) || (!a.month && a.key)) return fmt.percent(v);
  return fmt.number(v);
}

function Anomalies({anomalies}: {anomalies: Anomaly[]}) {
  const {fmt} = useApp();
  const columns: Column<Anomaly>[] = [
    {heading: 'Month', sortValue: (a) => a.month, render: (a) => (a.month ? fmt.month(a.month) : '—')},
    {heading: 'Kind', sortValue: (a) => a.kind, render: (a) => (a.kind ? humanize(a.kind) : '—')},
    {heading: 'What', sortValue: (a) => a.key, render: (a) => a.key || '—'},
    {heading: 'Value', numeric: true, sortValue: (a) => a.value, render: (a) => anomalyValue(fmt, a, a.value)},
    {heading: 'Expected', numeric: true, sortValue: (a) => a.expected, render: (a) => anomalyValue(fmt, a, a.expected)},
    {heading: 'How unusual', numeric: true, sortValue: (a) => (isNum(a.score) ? Math.abs(a.score) : a.score), render: (a) => fmt.decimal(a.score, 1)},
    {heading: 'Note', render: (a) => a.note || ''},
  ];
  return (
    <Card padding="0">
      <div className="cvo-card-heading">
        <Text as="h2" variant="headingMd">
          Unusual months and segments
        </Text>
      </div>
      {anomalies.length ? (
        <SortableTable columns={columns} rows={anomalies} initialSort={{column: 5, direction: 'descending'}} />
      ) : (
        <div className="cvo-card-body">
          <Text as="p" tone="subdued">
            Nothing unusual found.
          </Text>
        </div>
      )}
    </Card>
  );
}

function Icp({icp}: {icp: unknown}) {
  const {fmt} = useApp();
  const view = readIcp(icp);
  let body;
  if (view) body = <IcpProfile view={view} />;
  else if (icp && typeof icp === 'object' && Object.keys(icp).length) {
    body = Object.entries(icp as Record<string, unknown>).map(([k, v]) => <FreeFormSection key={k} name={k} value={v} fmt={fmt} />);
  } else {
    body = (
      <Text as="p" tone="subdued">
        No profile yet.
      </Text>
    );
  }
  return (
    <Card>
      <BlockStack gap="400">
        <Text as="h2" variant="headingMd">
          Your best customers
        </Text>
        {body}
      </BlockStack>
    </Card>
  );
}

function weekdayNames(locale: string): string[] {
  // 4 January 1970 was a Sunday; the profile counts Sunday as day 0.
  const f = new Intl.DateTimeFormat(locale, {weekday: 'short', timeZone: 'UTC'});
  return Array.from({length: 7}, (_, i) => f.format(new Date(Date.UTC(1970, 0, 4 + i))));
}

function IcpProfile({view}: {view: IcpView}) {
  const {fmt} = useApp();
  const who = view.topGroups.length ? view.topGroups.join(', ') : 'your top groups';
  const rows = (v: {top: Num[]; rest: Num[]}) => [v.top, v.rest];
  const days = weekdayNames(fmt.locale);
  return (
    <BlockStack gap="400">
      <Text as="p">
        Customers in {who} ({fmt.integer(view.topCustomers)}) compared with everyone else ({fmt.integer(view.restCustomers)}).
      </Text>
      {view.lists.map((l) => (
        <BlockStack gap="200" key={l.key}>
          <Text as="h3" variant="headingSm">
            {l.title}
          </Text>
          <SortableTable<IcpShare>
            columns={[
              {heading: l.item, sortValue: (r) => r.label, render: (r) => r.label},
              {heading: 'Best customers', numeric: true, sortValue: (r) => r.customers, render: (r) => fmt.integer(r.customers)},
              {heading: 'Share of best', numeric: true, sortValue: (r) => r.share, render: (r) => fmt.percent(r.share)},
              {heading: 'Share of the rest', numeric: true, sortValue: (r) => r.otherShare, render: (r) => fmt.percent(r.otherShare)},
            ]}
            rows={l.rows}
          />
        </BlockStack>
      ))}
      {view.weekdays ? (
        <BlockStack gap="200">
          <Text as="h3" variant="headingSm">
            Purchases by weekday
          </Text>
          <ShareHeatmap caption="Share of purchases by weekday, best customers and the rest" cols={days} values={rows(view.weekdays)} fmt={fmt} what="weekday" />
        </BlockStack>
      ) : null}
      {view.hours ? (
        <BlockStack gap="200">
          <Text as="h3" variant="headingSm">
            Purchases by hour of day
          </Text>
          <ShareHeatmap
            caption="Share of purchases by hour of day in the shop's time zone, best customers and the rest"
            cols={Array.from({length: 24}, (_, h) => String(h).padStart(2, '0'))}
            values={rows(view.hours)}
            fmt={fmt}
            what="hour"
            dense
          />
        </BlockStack>
      ) : null}
    </BlockStack>
  );
}

function ShareHeatmap(props: {caption: string; cols: string[]; values: Num[][]; fmt: Formatter; what: string; dense?: boolean}) {
  const {caption, cols, values, fmt, what, dense} = props;
  const rowLabels = ['Best customers', 'The rest'];
  return (
    <Heatmap
      chart={`icp-${what}`}
      caption={caption}
      cornerLabel="Who"
      rowLabels={rowLabels}
      colLabels={cols}
      values={values}
      format={(v) => (dense ? fmt.wholePercent(v) : fmt.percent(v))}
      cellLabel={(i, j, v) => `${rowLabels[i]}, ${what} ${cols[j]}: ${fmt.percent(v)} of purchases`}
      dense={dense}
    />
  );
}

function Backtest({raw}: {raw: unknown}) {
  const {fmt} = useApp();
  const bt = readBacktest(raw);
  const o = bt?.overall;
  let horizon = 'few months';
  if (typeof bt?.horizon === 'string') horizon = bt.horizon;
  else if (bt?.horizon) horizon = bt.horizon.unit === 'days' ? fmt.days(bt.horizon.value) : `${fmt.integer(bt.horizon.value)} ${bt.horizon.value === 1 ? 'month' : 'months'}`;
  const columns: Column<BacktestRow>[] = [
    {heading: 'Group', sortValue: (g) => g.label, render: (g) => g.label},
    {heading: 'Customers', numeric: true, sortValue: (g) => g.customers, render: (g) => fmt.integer(g.customers)},
    {heading: 'Predicted orders', numeric: true, sortValue: (g) => g.predictedOrders, render: (g) => fmt.number(g.predictedOrders)},
    {heading: 'Actual orders', numeric: true, sortValue: (g) => g.actualOrders, render: (g) => fmt.number(g.actualOrders)},
    {heading: 'Mean abs. error', numeric: true, sortValue: (g) => g.mae, render: (g) => fmt.decimal(g.mae, 2)},
    {heading: 'Correlation', numeric: true, sortValue: (g) => g.correlation, render: (g) => fmt.decimal(g.correlation, 2)},
  ];
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          How good are the predictions?
        </Text>
        {bt ? (
          <>
            <Text as="p" tone="subdued">
              The model is fitted on older history and asked to predict the last {horizon} of orders, which it has not seen.
            </Text>
            <MetricGrid>
              <Metric id="backtest_predicted" label="Predicted orders" value={fmt.number(o?.predictedOrders)} />
              <Metric id="backtest_actual" label="Actual orders" value={fmt.number(o?.actualOrders)} />
              <Metric id="backtest_mae" label="Mean absolute error per customer" value={fmt.decimal(o?.mae, 2)} />
              <Metric id="backtest_correlation" label="Correlation" value={fmt.decimal(o?.correlation, 2)} />
            </MetricGrid>
            {bt.groups.length ? (
              <BarChart
                chart="backtest"
                title="Predicted and actual orders by group"
                description={`Orders each group was predicted to place in the last ${horizon}, beside the orders it placed.`}
                categories={bt.groups.map((g) => g.label)}
                categoryHeading="Group"
                series={[
                  {name: 'Predicted orders', values: bt.groups.map((g) => g.predictedOrders)},
                  {name: 'Actual orders', values: bt.groups.map((g) => g.actualOrders)},
                ]}
                format={(v) => fmt.number(v)}
              />
            ) : null}
            {bt.groups.length ? <SortableTable columns={columns} rows={bt.groups} /> : null}
          </>
        ) : (
          <Text as="p" tone="subdued">
            The backtest needs more history than this shop has yet.
          </Text>
        )}
      </BlockStack>
    </Card>
  );
}
