import {Banner, BlockStack, Card, Text} from '@shopify/polaris';

import {groupName} from '../api/normalize';
import type {Insights} from '../api/types';
import {BarChart} from '../components/BarChart';
import {Metric, MetricGrid} from '../components/Metric';
import type {Column} from '../components/SortableTable';
import {SortableTable} from '../components/SortableTable';
import {useApp} from '../context';
import {isNum} from '../format';

type Prediction = NonNullable<Insights['prediction']>;
type Candidate = NonNullable<NonNullable<Prediction['candidates']>[number]>;

// candidateNames say what each candidate is in a merchant's words.
export const candidateNames: Record<string, string> = {
  bgnbd: 'BG/NBD',
  mbgnbd: 'MBG/NBD',
  paretonbd: 'Pareto/NBD',
  features: 'Recency, frequency, age and spend',
  average: 'Baseline: everyone the average',
  recency: 'Baseline: recency alone',
};

// shortError says in a few words why a candidate was not used; the full
// reason is listed under the table.
export function shortError(e: string): string {
  const text = e.replace(/^clv: /, '');
  if (/did not converge/.test(text)) return 'The fit did not converge';
  if (/insufficient data|need \d+/.test(text)) return 'Too little data';
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function candidateName(name: string | undefined): string {
  return (name && candidateNames[name]) || name || '—';
}

// PredictionCheck is the backtest of the headline prediction, as a merchant
// reads it: which model won and why, how it scored against the baselines,
// and predicted against actual share ordering by decile and by group.
export function PredictionCheck({prediction}: {prediction: Insights['prediction']}) {
  const {fmt} = useApp();
  const p = prediction;
  const days = isNum(p?.windowDays) ? p!.windowDays! : 90;
  const heading = `Chance to order in the next ${days} days: does it hold up?`;
  if (!p) {
    return (
      <Card>
        <BlockStack gap="300">
          <Text as="h2" variant="headingMd">
            {heading}
          </Text>
          <Text as="p" tone="subdued">
            The next scoring checks the chance to order against this shop's own history.
          </Text>
        </BlockStack>
      </Card>
    );
  }
  const candidates = (p.candidates ?? []).filter((c): c is Candidate => !!c);
  const chosen = candidates.find((c) => c.name === p.model);
  const baselines = candidates.filter((c) => c.baseline && !c.error);
  const deciles = p.deciles ?? [];
  const groups = (p.groups ?? []).filter((g) => g && isNum(g.customers) && g.customers! > 0);
  const columns: Column<Candidate>[] = [
    {
      heading: 'Model',
      sortValue: (c) => candidateName(c.name),
      render: (c) => (
        <span data-candidate={c.name}>
          {candidateName(c.name)}
          {c.name === p.model ? ' (used)' : ''}
        </span>
      ),
    },
    {heading: 'Log loss', numeric: true, sortValue: (c) => (c.error ? undefined : c.logLoss), render: (c) => (c.error ? '—' : fmt.decimal(c.logLoss, 4))},
    {heading: 'Brier score', numeric: true, sortValue: (c) => (c.error ? undefined : c.brier), render: (c) => (c.error ? '—' : fmt.decimal(c.brier, 4))},
    {heading: 'AUC', numeric: true, sortValue: (c) => (c.error ? undefined : c.auc), render: (c) => (c.error ? '—' : fmt.decimal(c.auc, 3))},
    {heading: 'Note', sortValue: (c) => c.error ?? '', render: (c) => (c.error ? `Not used: ${shortError(c.error)}` : '')},
  ];
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          {heading}
        </Text>
        {p.beatsBaselines ? (
          <Banner tone="success" title={`${candidateName(p.model)} predicts best on this shop's history`}>
            <p data-prediction="reason">{p.reason}</p>
          </Banner>
        ) : (
          <Banner tone="warning" title="No model beat the simple baselines">
            <p data-prediction="reason">{p.reason}</p>
          </Banner>
        )}
        {candidates.length ? (
          <>
            <Text as="p" tone="subdued">
              Every model was fitted on the history up to {fmt.date(p.cutoff)} and asked who would order in the {days} days after, which it had not
              seen. Lower log loss and Brier score are better; an AUC of 0.5 is guessing, 1 is perfect.
            </Text>
            <MetricGrid>
              <Metric id="prediction_auc" label="AUC of the chance used" value={fmt.decimal(chosen?.auc, 3)} />
              <Metric id="prediction_brier" label="Brier score" value={fmt.decimal(chosen?.brier, 4)} />
              {baselines.map((b) => (
                <Metric key={b.name} id={`prediction_baseline_${b.name}`} label={`${candidateName(b.name)}: AUC, Brier`} value={`${fmt.decimal(b.auc, 3)}, ${fmt.decimal(b.brier, 4)}`} />
              ))}
              <Metric id="prediction_actual_share" label={`Customers who ordered in those ${days} days`} value={fmt.percent(p.holdoutShare)} />
              <Metric id="prediction_mean" label="Average chance predicted for them" value={fmt.percent(p.meanPredicted)} />
            </MetricGrid>
            <SortableTable columns={columns} rows={candidates} />
            {candidates
              .filter((c) => c.error)
              .map((c) => (
                <Text key={c.name} as="p" tone="subdued" variant="bodySm">
                  <span data-candidate-error={c.name}>
                    {candidateName(c.name)} was not used: {c.error}
                  </span>
                </Text>
              ))}
          </>
        ) : null}
        {deciles.length ? (
          <BarChart
            chart="prediction-deciles"
            title="Predicted and actual share ordering, by tenth of the prediction"
            description={`Customers split into ten equal groups by their predicted chance, lowest first: the chance predicted beside the share who ordered in the ${days} days.`}
            categories={deciles.map((_, i) => `${i + 1}`)}
            categoryHeading="Tenth"
            series={[
              {name: 'Predicted', values: deciles.map((d) => d?.predicted)},
              {name: 'Actual', values: deciles.map((d) => d?.actual)},
            ]}
            format={(v) => fmt.percent(v)}
          />
        ) : null}
        {groups.length ? (
          <BarChart
            chart="prediction-groups"
            title="Predicted and actual share ordering, by group"
            description={`Each group as it stood on ${fmt.date(p.cutoff)}: the chance predicted beside the share who ordered in the next ${days} days.`}
            categories={groups.map((g) => groupName(g.group) ?? g.group ?? '—')}
            categoryHeading="Group"
            series={[
              {name: 'Predicted', values: groups.map((g) => g.predicted)},
              {name: 'Actual', values: groups.map((g) => g.actual)},
            ]}
            format={(v) => fmt.percent(v)}
          />
        ) : null}
      </BlockStack>
    </Card>
  );
}
