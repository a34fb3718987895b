import {Badge, BlockStack, Card, InlineStack, Layout, Link, Text} from '@shopify/polaris';

import type {CustomerDetail, GroupHistoryEntry, TimelineOrder} from '../api/types';
import {useApi} from '../api/useApi';
import {CustomerSurveyAnswers} from '../components/CustomerSurveyAnswers';
import {humanize} from '../components/FreeForm';
import {DataPage} from '../components/PageState';
import type {Column} from '../components/SortableTable';
import {SortableTable} from '../components/SortableTable';
import {useApp} from '../context';
import type {Formatter} from '../format';
import {KNOWN_GROUPS} from '../groups';
import {navigate} from '../router';

// groupName is a group's display name from its slug.
export function groupName(slug: string | null | undefined): string {
  if (!slug) return '—';
  return KNOWN_GROUPS.find((g) => g.slug === slug)?.name ?? slug;
}

// shopifyGroupName turns Shopify's enum (NEEDS_ATTENTION) into words.
export function shopifyGroupName(v: string | null | undefined): string {
  return v ? humanize(v.toLowerCase()) : 'None given';
}

const STATUS: Record<string, {label: string; tone?: 'success' | 'critical' | 'attention' | 'info'}> = {
  purchase: {label: 'Counts as a purchase', tone: 'success'},
  cancelled: {label: 'Cancelled', tone: 'critical'},
  refunded: {label: 'Refunded in full', tone: 'attention'},
  test: {label: 'Test order'},
  after_scoring: {label: 'After the scoring date', tone: 'info'},
};

// groupChanges says how the customer moved across the kept scorings, oldest
// first: "Lovers → Ex-Lovers" or "Lovers in every scoring".
export function groupChanges(history: GroupHistoryEntry[]): string {
  const groups = history.map((h) => h.group ?? '').filter(Boolean);
  if (!groups.length) return 'No earlier scoring';
  const path: string[] = [];
  for (const g of groups) if (path[path.length - 1] !== g) path.push(g);
  if (path.length === 1) return `${groupName(path[0])} in ${groups.length === 1 ? 'the one kept scoring' : `all ${groups.length} kept scorings`}`;
  return path.map(groupName).join(' → ');
}

export function CustomerPage({id}: {id: string}) {
  const state = useApi(`customer ${id}`, (api, signal) => api.GET('/customers/{id}', {params: {path: {id}}, signal}));
  const name = state.data?.customer?.name;
  return (
    <DataPage
      name="customer"
      title={name || `Customer ${id}`}
      subtitle={state.data ? `${groupName(state.data.group?.group)} · scored as of ${state.data.as_of ?? '—'}` : undefined}
      backAction={{content: 'Customers', onAction: () => navigate('/customers')}}
      emptyText="This shop has no scored customer with this id."
      state={state}
    >
      {(d) => <CustomerView d={d} />}
    </DataPage>
  );
}

function CustomerView({d}: {d: CustomerDetail}) {
  const {fmt} = useApp();
  const c = d.customer ?? {};
  const g = d.group ?? {};
  return (
    <Layout>
      <Layout.Section>
        <Card>
          <BlockStack gap="300">
            <InlineStack gap="200" blockAlign="center">
              <Text as="h2" variant="headingMd">
                Why {groupName(g.group)}
              </Text>
              <Badge tone={g.active === false ? 'attention' : 'success'}>{g.active === false ? 'Inactive' : 'Active'}</Badge>
            </InlineStack>
            <Text as="p">
              <span data-metric="group_rule">
                Rule {fmt.integer(g.priority)} of 11: {g.rule || '—'}
              </span>
            </Text>
            <Text as="p" tone="subdued">
              {g.active === false
                ? `No purchase for more than ${fmt.days(g.inactive_after_days)}, the shop's inactivity horizon (twice its average gap between orders).`
                : `Bought within the shop's inactivity horizon of ${fmt.days(g.inactive_after_days)} (twice its average gap between orders).`}
            </Text>
            <ul className="cvo-list" data-metric="score_explanations">
              {(d.scores ?? []).map((s) => (
                <li key={s.dimension}>
                  <Text as="span">{s.text}</Text>
                </li>
              ))}
            </ul>
            {c.admin_url ? (
              <Link url={c.admin_url} target="_top">
                Open the customer in Shopify
              </Link>
            ) : null}
          </BlockStack>
        </Card>
      </Layout.Section>
      <Layout.Section>
        <InlineStack gap="400" wrap>
          <Predictions d={d} fmt={fmt} />
          <ShopifyRfmCard d={d} />
        </InlineStack>
      </Layout.Section>
      <Layout.Section>
        <Timeline orders={d.orders ?? []} fmt={fmt} />
      </Layout.Section>
      <Layout.Section>
        <History history={d.history ?? []} fmt={fmt} />
      </Layout.Section>
      <Layout.Section>
        <CustomerSurveyAnswers id={c.id ?? ''} />
      </Layout.Section>
    </Layout>
  );
}

function Predictions({d, fmt}: {d: CustomerDetail; fmt: Formatter}) {
  const c = d.customer ?? {};
  const chance = d.chance_to_order;
  return (
    <Card>
      <BlockStack gap="200">
        <Text as="h2" variant="headingMd">
          Chance to order and value
        </Text>
        {chance ? (
          <BlockStack gap="100">
            <Text as="p">
              <span data-metric="chance_to_order">
                Chance to order in the next {fmt.integer(chance.window_days)} days: {fmt.percent(chance.probability)}
              </span>
            </Text>
            {chance.drivers?.length ? (
              <ul className="cvo-list">
                {chance.drivers.map((x) => (
                  <li key={x}>{x}</li>
                ))}
              </ul>
            ) : null}
          </BlockStack>
        ) : (
          // Slot for the calibrated chance to order and its drivers (issue 11,
          // items 1–4); the API sends null until the scoring computes it.
          <div data-slot="chance-to-order">
            <Text as="p" tone="subdued">
              Chance to order in the next 90 days: not computed yet. It will show here, with what drives it, once the shop's
              scoring calibrates it.
            </Text>
          </div>
        )}
        <Text as="p">
          Predicted value, next 12 months: <span data-metric="predicted_clv">{fmt.money(c.predicted_clv)}</span>
        </Text>
        <Text as="p">Value so far: {fmt.money(c.historical_clv)}</Text>
        <Text as="p">Expected next order: {fmt.date(c.expected_next_order)}</Text>
        <Text as="p" tone="subdued">
          P(alive), the purchase model&apos;s chance that they are still a customer: {fmt.percent(c.p_alive)}
        </Text>
      </BlockStack>
    </Card>
  );
}

function ShopifyRfmCard({d}: {d: CustomerDetail}) {
  const s = d.shopify ?? {};
  return (
    <Card>
      <BlockStack gap="200">
        <Text as="h2" variant="headingMd">
          Shopify&apos;s own RFM
        </Text>
        <Text as="p">
          Group: <span data-metric="shopify_rfm_group">{shopifyGroupName(s.rfm_group)}</span>
        </Text>
        <Text as="p">Predicted spend tier: {s.predicted_spend_tier ? humanize(s.predicted_spend_tier.toLowerCase()) : 'None given'}</Text>
      </BlockStack>
    </Card>
  );
}

function Timeline({orders, fmt}: {orders: TimelineOrder[]; fmt: Formatter}) {
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          Orders
        </Text>
        {orders.length ? (
          <ol className="cvo-timeline" aria-label="Orders, newest first">
            {orders.map((o) => {
              const st = STATUS[o.status ?? ''] ?? {label: o.status ?? '—'};
              return (
                <li key={o.id} data-order={o.id}>
                  <InlineStack gap="300" blockAlign="center">
                    <Text as="span" fontWeight="semibold">
                      {fmt.date(o.date)}
                    </Text>
                    <Text as="span">{fmt.money(o.total)}</Text>
                    {o.refunded ? <Text as="span" tone="subdued">{`refunded ${fmt.money(o.refunded)}`}</Text> : null}
                    <Badge tone={st.tone}>{st.label}</Badge>
                  </InlineStack>
                </li>
              );
            })}
          </ol>
        ) : (
          <Text as="p" tone="subdued">
            No orders stored for this customer.
          </Text>
        )}
      </BlockStack>
    </Card>
  );
}

function History({history, fmt}: {history: GroupHistoryEntry[]; fmt: Formatter}) {
  const columns: Column<GroupHistoryEntry>[] = [
    {heading: 'Scored as of', sortValue: (h) => h.as_of, render: (h) => fmt.date(h.as_of)},
    {heading: 'Group', sortValue: (h) => groupName(h.group), render: (h) => groupName(h.group)},
    {heading: 'R', numeric: true, sortValue: (h) => h.r, render: (h) => fmt.integer(h.r)},
    {heading: 'F', numeric: true, sortValue: (h) => h.f, render: (h) => fmt.integer(h.f)},
    {heading: 'M', numeric: true, sortValue: (h) => h.m, render: (h) => fmt.integer(h.m)},
  ];
  return (
    <Card padding="0">
      <div className="cvo-card-heading">
        <BlockStack gap="100">
          <Text as="h2" variant="headingMd">
            Group history
          </Text>
          <Text as="p" tone="subdued">
            <span data-metric="group_changes">{groupChanges(history)}</span>
          </Text>
        </BlockStack>
      </div>
      {history.length ? <SortableTable columns={columns} rows={[...history].reverse()} /> : null}
    </Card>
  );
}
