import {Badge, BlockStack, Button, Card, InlineGrid, InlineStack, Layout, Text} from '@shopify/polaris';
import {useState} from 'react';

import type {Group, Transition} from '../api/types';
import {useApi} from '../api/useApi';
import {toast} from '../appBridge';
import {DataPage, EmptyCard} from '../components/PageState';
import {RfmGrid} from '../components/RfmGrid';
import type {Column} from '../components/SortableTable';
import {SortableTable} from '../components/SortableTable';
import {useApp} from '../context';
import {saveBlob} from '../download';
import {npsLabel} from '../surveyForm';

export function SegmentsPage() {
  const {fmt} = useApp();
  const state = useApi('segments', (api, signal) => api.GET('/segments', {signal}));
  return (
    <DataPage name="segments" title="Segments" state={state} isEmpty={(d) => !d.groups?.length && !d.grid?.length}>
      {(d) => {
        const names = new Map((d.groups ?? []).map((g) => [g.slug ?? '', g.name || g.slug || '']));
        return (
          <Layout>
            <Layout.Section>
              <Text as="p" tone="subdued">
                Scored {fmt.dateTime(d.scored_at)}
              </Text>
            </Layout.Section>
            <Layout.Section>
              <GroupsTable groups={d.groups ?? []} />
            </Layout.Section>
            <Layout.Section>
              <Card>
                <BlockStack gap="300">
                  <Text as="h2" variant="headingMd">
                    Recency and frequency
                  </Text>
                  <Text as="p" tone="subdued">
                    Each cell counts the customers with that recency score (rows) and frequency score (columns). Darker cells hold
                    more customers.
                  </Text>
                  {d.grid?.length ? <RfmGrid grid={d.grid} fmt={fmt} /> : <Text as="p">No grid yet.</Text>}
                </BlockStack>
              </Card>
            </Layout.Section>
            <Layout.Section>
              <Playbook groups={d.groups ?? []} />
            </Layout.Section>
            <Layout.Section>
              <Movements transitions={d.movements?.transitions ?? []} names={names} />
            </Layout.Section>
          </Layout>
        );
      }}
    </DataPage>
  );
}

function GroupsTable({groups}: {groups: Group[]}) {
  const {fmt} = useApp();
  // Each group's NPS from the surveys, beside its value; a group nobody in
  // it answered shows a dash (no data, not 0).
  const surveyed = useApi('group-nps', (api, signal) => api.GET('/surveys/nps-by-group', {signal}));
  const nps = new Map((surveyed.data?.groups ?? []).map((g) => [g.group ?? '', g]));
  if (!groups.length) return <EmptyCard heading="No groups yet" />;
  const columns: Column<Group>[] = [
    {
      heading: 'Group',
      sortValue: (g) => g.name,
      render: (g) => (
        <span data-group={g.slug}>
          <Text as="span" fontWeight="semibold">
            {g.name || g.slug}
          </Text>
        </span>
      ),
    },
    {heading: 'Customers', numeric: true, sortValue: (g) => g.customers, render: (g) => <span data-cell="customers">{fmt.integer(g.customers)}</span>},
    {heading: 'Share', numeric: true, sortValue: (g) => g.share, render: (g) => fmt.percent(g.share)},
    {heading: 'Revenue share', numeric: true, sortValue: (g) => g.revenue_share, render: (g) => fmt.percent(g.revenue_share)},
    {heading: 'AOV', numeric: true, sortValue: (g) => g.aov, render: (g) => fmt.money(g.aov)},
    {heading: 'Days between orders', numeric: true, sortValue: (g) => g.avg_days_between_orders, render: (g) => fmt.days(g.avg_days_between_orders)},
    {heading: 'Historical CLV', numeric: true, sortValue: (g) => g.avg_historical_clv, render: (g) => fmt.money(g.avg_historical_clv)},
    {heading: 'Predicted CLV', numeric: true, sortValue: (g) => g.avg_predicted_clv, render: (g) => fmt.money(g.avg_predicted_clv)},
    {heading: 'Chance still active', numeric: true, sortValue: (g) => g.avg_p_alive, render: (g) => fmt.percent(g.avg_p_alive)},
    {
      heading: 'NPS',
      numeric: true,
      sortValue: (g) => nps.get(g.slug ?? '')?.nps,
      render: (g) => {
        const n = nps.get(g.slug ?? '');
        return (
          <span data-cell="nps" title={n ? `${fmt.integer(n.responses)} answers` : 'No survey answers'}>
            {npsLabel(n?.nps)}
          </span>
        );
      },
    },
  ];
  return (
    <Card padding="0">
      <div className="cvo-card-heading">
        <Text as="h2" variant="headingMd">
          Customer groups
        </Text>
      </div>
      <SortableTable columns={columns} rows={groups} />
    </Card>
  );
}

function Playbook({groups}: {groups: Group[]}) {
  const {api} = useApp();
  const [busy, setBusy] = useState<string>();
  if (!groups.length) return null;

  async function exportGroup(g: Group) {
    if (!g.slug) return;
    setBusy(g.slug);
    try {
      const {blob, filename} = await api.download(`/api/segments/${encodeURIComponent(g.slug)}/export.csv`);
      saveBlob(blob, filename ?? `${g.slug}.csv`);
    } catch (e) {
      toast(`Export failed: ${e instanceof Error ? e.message : String(e)}`, {isError: true});
    } finally {
      setBusy(undefined);
    }
  }

  return (
    <BlockStack gap="300">
      <Text as="h2" variant="headingMd">
        What to do with each group
      </Text>
      <InlineGrid columns={{xs: 1, md: 2}} gap="400">
        {groups.map((g) => (
          <Card key={g.slug ?? g.name}>
            <BlockStack gap="200">
              <InlineStack align="space-between" blockAlign="center" gap="200">
                <Text as="h3" variant="headingSm">
                  {g.name || g.slug}
                </Text>
                {g.tag ? <Badge>{g.tag}</Badge> : null}
              </InlineStack>
              {g.meaning ? <Text as="p">{g.meaning}</Text> : null}
              {g.action ? (
                <Text as="p" tone="subdued">
                  {g.action}
                </Text>
              ) : null}
              <InlineStack gap="200">
                <Button
                  onClick={() => void exportGroup(g)}
                  loading={busy === g.slug}
                  disabled={!g.slug}
                  accessibilityLabel={`Export ${g.name || g.slug} customers as CSV`}
                >
                  Export CSV
                </Button>
                {g.segment_url ? (
                  <Button url={g.segment_url} target="_top" variant="plain" accessibilityLabel={`Open the ${g.name || g.slug} segment in Shopify`}>
                    Open segment in Shopify
                  </Button>
                ) : null}
              </InlineStack>
            </BlockStack>
          </Card>
        ))}
      </InlineGrid>
    </BlockStack>
  );
}

function Movements({transitions, names}: {transitions: Transition[]; names: Map<string, string>}) {
  const {fmt} = useApp();
  const columns: Column<Transition>[] = [
    {heading: 'From', sortValue: (t) => names.get(t.from ?? '') || t.from, render: (t) => names.get(t.from ?? '') || t.from || '—'},
    {heading: 'To', sortValue: (t) => names.get(t.to ?? '') || t.to, render: (t) => names.get(t.to ?? '') || t.to || '—'},
    {heading: 'Customers', numeric: true, sortValue: (t) => t.customers, render: (t) => fmt.integer(t.customers)},
  ];
  const moved = transitions.filter((t) => t.from !== t.to);
  return (
    <Card padding="0">
      <div className="cvo-card-heading">
        <BlockStack gap="100">
          <Text as="h2" variant="headingMd">
            Movements since the previous scoring
          </Text>
          <Text as="p" tone="subdued">
            Movements appear after the second scoring run.
          </Text>
        </BlockStack>
      </div>
      {moved.length ? <SortableTable columns={columns} rows={moved} initialSort={{column: 2, direction: 'descending'}} /> : null}
    </Card>
  );
}
