import {Banner, BlockStack, Button, ButtonGroup, Card, InlineStack, Layout, Text} from '@shopify/polaris';
import {useState} from 'react';

import type {LifetimeValue, LtvCohort, LtvCurve, LtvPayback, Num} from '../api/types';
import {useApi} from '../api/useApi';
import {BarChart} from '../components/BarChart';
import {Metric, MetricGrid} from '../components/Metric';
import {MultiLineChart} from '../components/MultiLineChart';
import {DataPage} from '../components/PageState';
import type {Column} from '../components/SortableTable';
import {SortableTable} from '../components/SortableTable';
import {useApp} from '../context';
import {saveBlob} from '../download';
import type {Formatter} from '../format';
import {MISSING, isNum} from '../format';
import {ltvCsv, steadyCsv} from '../ltvCsv';

export type Dimension = 'cohort' | 'product' | 'code' | 'source';
export type Measure = 'gross_profit' | 'revenue';

// The months since the first order the comparison table shows.
const TABLE_MONTHS = [0, 1, 3, 6, 12];
// The comparison chart draws this many curves; the table lists them all.
const CHART_SERIES = 6;

// paybackText says when gross profit paid back the acquisition cost.
export function paybackText(p: LtvPayback | undefined): string {
  switch (p?.state) {
    case 'reached':
      return p.month === 0 ? 'In the first month' : `Month ${p.month ?? MISSING}`;
    case 'not_yet':
      return 'Not yet';
    case 'no_cac':
      return 'No acquisition cost set';
    default:
      return MISSING;
  }
}

const monthLabel = (k: number) => `Month ${k}`;

// Row is one line of the comparison: a cohort or a curve by attribute.
export interface Row {
  key: string;
  name: string;
  customers: Num;
  cac: Num;
  revenue: Num[];
  gross: Num[];
  // partialLast marks the last value as the current month so far.
  partialLast: boolean;
  payback?: LtvPayback;
}

export function rowsFor(d: LifetimeValue, dim: Dimension, fmt: Formatter): Row[] {
  const curve = (c: LtvCurve): Row => ({
    key: c.key ?? '',
    name: c.title || c.key || '(none)',
    customers: c.customers,
    cac: c.cac,
    revenue: c.revenue ?? [],
    gross: c.gross_profit ?? [],
    partialLast: false,
    payback: c.payback,
  });
  switch (dim) {
    case 'cohort':
      return (d.cohorts ?? [])
        .filter((c: LtvCohort) => isNum(c.customers) && c.customers > 0)
        .map((c) => ({
          key: c.cohort ?? '',
          name: fmt.month(c.cohort),
          customers: c.customers,
          cac: c.cac,
          revenue: c.revenue ?? [],
          gross: c.gross_profit ?? [],
          partialLast: c.partial === true,
          payback: c.payback,
        }));
    case 'product':
      return (d.by_first_product ?? []).map(curve);
    case 'code':
      return (d.by_discount_code ?? []).map(curve);
    case 'source':
      return (d.by_source ?? []).map(curve);
  }
}

// drawnValues are the values a chart draws: the current month is left out,
// where a month so far would read as a flattening curve; the table shows it,
// marked.
function drawnValues(r: Row, values: Num[]): Num[] {
  return r.partialLast ? values.slice(0, -1) : values;
}

// chartRows picks the curves the chart draws: the newest cohorts with a
// month that has ended, or the attributes with the most customers (the API
// sends them largest first).
function chartRows(rows: Row[], dim: Dimension): Row[] {
  if (dim !== 'cohort') return rows.slice(0, CHART_SERIES);
  return rows.filter((r) => drawnValues(r, r.gross).length > 0).slice(-CHART_SERIES);
}

// shortPayback is paybackText for a table cell.
function shortPayback(p: LtvPayback | undefined): string {
  if (p?.state === 'reached') return `Month ${p.month ?? MISSING}`;
  return p?.state === 'not_yet' ? 'Not yet' : MISSING;
}

export function LifetimeValuePage() {
  const state = useApi('lifetime-value', (api, signal) => api.GET('/lifetime-value', {signal}));
  return (
    <DataPage
      name="lifetime-value"
      title="Lifetime value"
      state={state}
      isEmpty={(d) => d.available !== false && !d.cohorts?.length}
      emptyText="Lifetime value appears once customers have ordered."
    >
      {(d) => (d.available === false ? <NotYetComputed /> : <LifetimeValueContent d={d} />)}
    </DataPage>
  );
}

function NotYetComputed() {
  const {api, reloadShop} = useApp();
  const [queued, setQueued] = useState(false);
  return (
    <Banner
      title="Lifetime value comes with the next scoring"
      tone="info"
      action={
        queued
          ? undefined
          : {
              content: 'Rescore now',
              onAction: () => {
                void api.typed.POST('/actions/rescore').then(() => {
                  setQueued(true);
                  void reloadShop();
                });
              },
            }
      }
    >
      <p>{queued ? 'A scoring is on its way; this page fills in when it is done.' : 'The latest scoring was made before this report existed.'}</p>
    </Banner>
  );
}

function LifetimeValueContent({d}: {d: LifetimeValue}) {
  const {fmt} = useApp();
  const overall = d.overall;
  const gross = overall?.gross_profit ?? [];
  const months = Math.max(gross.length, overall?.revenue?.length ?? 0);
  const xLabels = Array.from({length: months}, (_, k) => monthLabel(k));
  const cac = isNum(d.cac) && d.cac > 0 ? d.cac : null;
  const exportAll = () => saveBlob(new Blob([ltvCsv(d)], {type: 'text/csv'}), 'lifetime-value.csv');
  return (
    <Layout>
      <Layout.Section>
        <Card>
          <BlockStack gap="300">
            <InlineStack align="space-between" blockAlign="center" gap="200">
              <Text as="h2" variant="headingMd">
                Value per customer since the first order
              </Text>
              <Button onClick={exportAll}>Export CSV</Button>
            </InlineStack>
            <MetricGrid>
              <Metric
                id="ltv_gross_m0"
                label="Gross profit per customer, first month"
                value={fmt.money(gross[0])}
                help="From the first order's month: revenue net of refunds, less the cost of goods."
              />
              <Metric
                id="ltv_gross_m3"
                label="By month 3"
                value={fmt.money(gross[3])}
                help="Cumulative, over the customers whose third month after the first has ended."
              />
              <Metric id="ltv_gross_m12" label="By month 12" value={fmt.money(gross[12])} help="Cumulative, a year after the first order's month." />
              <Metric
                id="ltv_cac"
                label="Average acquisition cost"
                value={cac === null ? MISSING : fmt.money(cac)}
                help={cac === null ? 'Set it, per source too, in Settings.' : 'From Settings: per source where set, the shop-wide cost otherwise.'}
              />
              <Metric
                id="ltv_payback"
                label="Acquisition cost paid back"
                value={overall?.payback?.state === 'no_cac' ? MISSING : paybackText(overall?.payback)}
                help={
                  overall?.payback?.state === 'no_cac'
                    ? 'No acquisition cost is set, so there is nothing to pay back.'
                    : 'The month since the first order in which gross profit per customer reaches the acquisition cost.'
                }
              />
            </MetricGrid>
            {months > 0 ? (
              <MultiLineChart
                chart="ltv-overall"
                title="Cumulative value per customer"
                description="Gross profit and net revenue per customer, by months since the first order; month k counts the customers whose month k has ended."
                xLabels={xLabels}
                xHeading="Since the first order"
                series={[
                  {name: 'Gross profit per customer', values: gross},
                  {name: 'Revenue per customer', values: overall?.revenue ?? []},
                  ...(cac === null ? [] : [{name: 'Acquisition cost', values: xLabels.map(() => cac), comparison: true}]),
                ]}
                format={(v) => fmt.money(v)}
              />
            ) : (
              <Text as="p" tone="subdued">
                No month since a first order has ended yet.
              </Text>
            )}
          </BlockStack>
        </Card>
      </Layout.Section>
      <Layout.Section>
        <Comparison d={d} />
      </Layout.Section>
      <Layout.Section>
        <Steady d={d} />
      </Layout.Section>
    </Layout>
  );
}

const DIMENSIONS: {id: Dimension; label: string; heading: string}[] = [
  {id: 'cohort', label: 'Cohort month', heading: 'Cohort'},
  {id: 'product', label: 'First product', heading: 'First product'},
  {id: 'code', label: 'Discount code', heading: 'First-order discount code'},
  {id: 'source', label: 'Source', heading: 'Acquisition source'},
];

// valueCell shows one cumulative value, marking the current month so far.
// data-cell lets the e2e harness find a month's value whatever columns show.
function valueCell(fmt: Formatter, row: Row, values: Num[], k: number) {
  if (k >= values.length) return <span data-cell={`month-${k}`}>{MISSING}</span>;
  const text = fmt.money(values[k]);
  if (row.partialLast && k === values.length - 1) {
    // Two lines keep the column as narrow as its neighbours.
    return (
      <span data-cell={`month-${k}`} data-partial="true" title="This month has not ended; the value is so far.">
        {text}
        <br />
        <Text as="span" variant="bodySm" tone="subdued">
          so far
        </Text>
      </span>
    );
  }
  return <span data-cell={`month-${k}`}>{text}</span>;
}

function Comparison({d}: {d: LifetimeValue}) {
  const {fmt} = useApp();
  const [dim, setDim] = useState<Dimension>('cohort');
  const [measure, setMeasure] = useState<Measure>('gross_profit');
  const rows = rowsFor(d, dim, fmt);
  const shown = chartRows(rows, dim);
  const pick = (r: Row) => (measure === 'revenue' ? r.revenue : r.gross);
  const drawn = (r: Row) => drawnValues(r, pick(r));
  // Without any acquisition cost there is nothing to pay back: the columns
  // would only hold dashes.
  const withCAC = rows.some((r) => isNum(r.cac) && r.cac > 0);
  const width = Math.max(0, ...shown.map((r) => drawn(r).length));
  const xLabels = Array.from({length: width}, (_, k) => monthLabel(k));
  const info = DIMENSIONS.find((x) => x.id === dim) ?? DIMENSIONS[0];
  const total = dim === 'product' ? d.first_products : dim === 'code' ? d.discount_codes : dim === 'source' ? d.sources : null;
  const columns: Column<Row>[] = [
    {heading: info.heading, sortValue: (r) => r.key, render: (r) => r.name},
    {heading: 'Customers', numeric: true, sortValue: (r) => r.customers, render: (r) => fmt.integer(r.customers)},
    ...(withCAC
      ? [{heading: 'Acquisition cost', numeric: true, sortValue: (r: Row) => r.cac, render: (r: Row) => (isNum(r.cac) && r.cac > 0 ? fmt.money(r.cac) : MISSING)}]
      : []),
    ...TABLE_MONTHS.map(
      (k): Column<Row> => ({
        heading: monthLabel(k),
        numeric: true,
        sortValue: (r) => pick(r)[k],
        render: (r) => valueCell(fmt, r, pick(r), k),
      }),
    ),
    ...(withCAC
      ? [{heading: 'Paid back', sortValue: (r: Row) => (r.payback?.state === 'reached' ? r.payback.month : null), render: (r: Row) => shortPayback(r.payback)}]
      : []),
  ];
  const what = measure === 'revenue' ? 'Net revenue' : 'Gross profit';
  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack align="space-between" blockAlign="center" gap="200">
          <Text as="h2" variant="headingMd">
            By cohort, first product, discount code and source
          </Text>
          <InlineStack gap="200">
            <ButtonGroup variant="segmented">
              {DIMENSIONS.map((x) => (
                <Button key={x.id} pressed={dim === x.id} onClick={() => setDim(x.id)}>
                  {x.label}
                </Button>
              ))}
            </ButtonGroup>
            <ButtonGroup variant="segmented">
              <Button pressed={measure === 'gross_profit'} onClick={() => setMeasure('gross_profit')}>
                Gross profit
              </Button>
              <Button pressed={measure === 'revenue'} onClick={() => setMeasure('revenue')}>
                Revenue
              </Button>
            </ButtonGroup>
          </InlineStack>
        </InlineStack>
        <Text as="p" tone="subdued">
          {dim === 'cohort'
            ? `${what} per customer of each month's new customers, cumulative by month since their first order. The current month, still running, is marked "so far" in the table and left out of the chart.`
            : `${what} per customer, cumulative by month since the first order, over the customers whose month has ended. ${
                isNum(total) && total > rows.length ? `The ${rows.length} largest of ${fmt.integer(total)} are shown.` : ''
              }`}
        </Text>
        {shown.length && width > 0 ? (
          <MultiLineChart
            chart="ltv-compare"
            title={`${what} per customer by ${info.label.toLowerCase()}`}
            description={dim === 'cohort' ? `The newest ${shown.length} cohorts.` : `The ${shown.length} with the most customers.`}
            xLabels={xLabels}
            xHeading="Since the first order"
            series={shown.map((r) => ({name: r.name, values: drawn(r)}))}
            format={(v) => fmt.money(v)}
          />
        ) : null}
        {rows.length ? (
          <SortableTable columns={columns} rows={rows} label={info.label} pageSize={25} />
        ) : (
          <Text as="p" tone="subdued">
            No data yet.
          </Text>
        )}
      </BlockStack>
    </Card>
  );
}

function Steady({d}: {d: LifetimeValue}) {
  const {fmt} = useApp();
  const rule = d.steady;
  const cohorts = (d.cohorts ?? []).filter((c) => isNum(c.customers) && c.customers > 0);
  const exportSteady = () => saveBlob(new Blob([steadyCsv(d)], {type: 'text/csv'}), 'steady-customers.csv');
  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack align="space-between" blockAlign="center" gap="200">
          <Text as="h2" variant="headingMd">
            Subscription-like repeat customers
          </Text>
          <Button onClick={exportSteady}>Export CSV</Button>
        </InlineStack>
        <Text as="p" tone="subdued">
          {`A customer orders at a steady interval when they bought on at least ${fmt.integer(rule?.min_purchase_days)} different days, ` +
            `the gaps between them average ${fmt.integer(rule?.min_gap_days)} to ${fmt.integer(rule?.max_gap_days)} days and vary by at most ` +
            `${fmt.wholePercent(rule?.max_variation)} of their average. They are on schedule until ${fmt.decimal(rule?.overdue_factor, 1)} times their average gap has passed since their last order.`}
        </Text>
        <MetricGrid>
          <Metric id="steady_customers" label="Steady customers" value={fmt.integer(rule?.customers)} />
          <Metric id="steady_on_schedule" label="On schedule" value={fmt.integer(rule?.on_schedule)} />
          <Metric id="steady_avg_gap" label="Average interval" value={fmt.days(rule?.avg_gap_days)} />
        </MetricGrid>
        {cohorts.length ? (
          <BarChart
            chart="steady-cohorts"
            title="Steady customers by cohort"
            description="Customers of each month's new customers who order at a steady interval, and those of them on schedule."
            categories={cohorts.map((c) => fmt.month(c.cohort))}
            categoryHeading="Cohort"
            series={[
              {name: 'Steady', values: cohorts.map((c) => c.steady)},
              {name: 'On schedule', values: cohorts.map((c) => c.steady_on_schedule)},
            ]}
            format={(v) => fmt.integer(v)}
          />
        ) : null}
      </BlockStack>
    </Card>
  );
}
