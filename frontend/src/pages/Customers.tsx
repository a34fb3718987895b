import {BlockStack, Card, InlineGrid, Layout, Page, Pagination, Select, Text, TextField} from '@shopify/polaris';
import type {MouseEvent} from 'react';
import {useEffect, useState} from 'react';

import {ApiError} from '../api/client';
import type {operations} from '../api/schema';
import type {CustomerRow} from '../api/types';
import {useApi} from '../api/useApi';
import {ErrorBanner, LoadingPage, PageFrame} from '../components/PageState';
import type {Column} from '../components/SortableTable';
import {SortableTable} from '../components/SortableTable';
import {ChurnBadge, churnRank} from '../components/ChurnBadge';
import {useApp} from '../context';
import {isNum} from '../format';
import {customerPath, hrefWithQuery, navigate} from '../router';

export const PER_PAGE = 25;
// MAX_SEARCH is the server's limit on a search (characters).
export const MAX_SEARCH = 200;

// searchProblem says what is wrong with a search before it is sent.
export function searchProblem(text: string): string | undefined {
  const n = [...text.trim()].length;
  return n > MAX_SEARCH ? `Search is at most ${MAX_SEARCH} characters; this has ${n.toLocaleString()}. Shorten it to search.` : undefined;
}

type CustomersQuery = NonNullable<operations['getCustomers']['parameters']['query']>;

// customersQuery is the list's query: a search, a group, a page.
export function customersQuery(q: string, group: string, page: number): CustomersQuery {
  const query: CustomersQuery = {};
  if (q) query.q = q;
  if (group) query.group = group as CustomersQuery['group'];
  query.page = page;
  query.per_page = PER_PAGE;
  return query;
}

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

export function CustomersPage() {
  const {fmt} = useApp();
  const [query, setQuery] = useState('');
  const [group, setGroup] = useState('');
  const problem = searchProblem(query);
  const typed = useDebounced(query.trim(), 300);
  // A search over the limit is not sent: the field says why, the list stays.
  const q = searchProblem(typed) ? '' : typed;
  // The page number belongs to one search: a new search starts at page 1.
  const filterKey = `${q}|${group}`;
  const [paging, setPaging] = useState({key: filterKey, page: 1});
  const page = paging.key === filterKey ? paging.page : 1;
  const setPage = (p: number) => setPaging({key: filterKey, page: p});
  const listQuery = customersQuery(q, group, page);
  const state = useApi(`customers ${JSON.stringify(listQuery)}`, (api, signal) =>
    api.GET('/customers', {params: {query: listQuery}, signal}),
  );
  // Group names for the filter; the page works without them.
  const segments = useApi('segments', (api, signal) => api.GET('/segments', {signal}));
  const groups = segments.data?.groups ?? [];
  const names = new Map(groups.map((g) => [g.slug ?? '', g.name || g.slug || '']));

  if (state.loading && state.data === undefined && !state.error) {
    return (
      <PageFrame name="customers" state="loading">
        <LoadingPage title="Customers" />
      </PageFrame>
    );
  }

  const rows = state.data?.customers ?? [];
  const total = isNum(state.data?.total) ? state.data!.total! : rows.length;
  const perPage = isNum(state.data?.per_page) && state.data!.per_page! > 0 ? state.data!.per_page! : PER_PAGE;
  const current = isNum(state.data?.page) ? state.data!.page! : page;
  const pages = Math.max(1, Math.ceil(total / perPage));
  // A refusal of the search itself belongs beside the search field; a
  // retry would only be refused again.
  const searchRefused = state.error instanceof ApiError && state.error.field === 'q' ? state.error.message : undefined;
  const view = state.error ? 'error' : rows.length ? 'ready' : 'empty';
  const windowDays = isNum(state.data?.window_days) ? state.data!.window_days! : 90;

  const columns: Column<CustomerRow>[] = [
    {
      heading: 'Customer',
      sortValue: (c) => c.name,
      // The name opens the customer screen in the app (a real link, so a
      // middle click or "copy link" work too); Shopify's page is one
      // click further, from that screen.
      render: (c) =>
        c.id ? (
          <a
            className="cvo-link"
            href={hrefWithQuery(customerPath(c.id))}
            onClick={(e: MouseEvent<HTMLAnchorElement>) => {
              if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
              e.preventDefault();
              navigate(customerPath(c.id!));
            }}
          >
            {c.name || `Customer ${c.id}`}
          </a>
        ) : (
          c.name || '—'
        ),
    },
    {heading: 'Group', sortValue: (c) => names.get(c.group ?? '') || c.group, render: (c) => names.get(c.group ?? '') || c.group || '—'},
    {
      heading: `Chance to order in the next ${windowDays} days`,
      numeric: true,
      sortValue: (c) => c.p_order_window,
      render: (c) => <span data-cell="p_order_window">{fmt.percent(c.p_order_window)}</span>,
    },
    {
      heading: 'Churn risk',
      sortValue: (c) => churnRank(c.churn_risk),
      render: (c) => (
        <span data-cell="churn_risk">
          <ChurnBadge risk={c.churn_risk} />
        </span>
      ),
    },
    {heading: 'R', numeric: true, sortValue: (c) => c.r, render: (c) => fmt.integer(c.r)},
    {heading: 'F', numeric: true, sortValue: (c) => c.f, render: (c) => fmt.integer(c.f)},
    {heading: 'M', numeric: true, sortValue: (c) => c.m, render: (c) => fmt.integer(c.m)},
    {heading: 'Historical CLV', numeric: true, sortValue: (c) => c.historical_clv, render: (c) => fmt.money(c.historical_clv)},
    {heading: 'Predicted CLV', numeric: true, sortValue: (c) => c.predicted_clv, render: (c) => fmt.money(c.predicted_clv)},
    {heading: 'Expected next order', sortValue: (c) => c.expected_next_order, render: (c) => fmt.date(c.expected_next_order)},
  ];

  return (
    <PageFrame name="customers" state={view}>
      <Page title="Customers">
        <Layout>
          <Layout.Section>
            <Card>
              <InlineGrid columns={{xs: 1, md: ['twoThirds', 'oneThird']}} gap="300">
                <TextField
                  label="Search customers"
                  value={query}
                  onChange={setQuery}
                  autoComplete="off"
                  placeholder="Name or customer ID"
                  error={problem ?? searchRefused}
                  clearButton
                  onClearButtonClick={() => setQuery('')}
                />
                <Select
                  label="Group"
                  options={[{label: 'All groups', value: ''}, ...groups.map((g) => ({label: g.name || g.slug || '', value: g.slug ?? ''}))]}
                  value={group}
                  onChange={setGroup}
                />
              </InlineGrid>
            </Card>
          </Layout.Section>
          <Layout.Section>
            {searchRefused ? null : state.error ? (
              <ErrorBanner title="Couldn't load customers" error={state.error} onRetry={state.reload} />
            ) : (
              <Card padding="0">
                <div className="cvo-card-heading">
                  <BlockStack gap="100">
                    <Text as="h2" variant="headingMd">
                      {q || group ? 'Matching customers' : 'All customers'}
                    </Text>
                    <Text as="p" tone="subdued">
                      <span data-metric="customers_total">{fmt.integer(total)}</span> {total === 1 ? 'customer' : 'customers'}
                    </Text>
                  </BlockStack>
                </div>
                {rows.length ? (
                  <SortableTable columns={columns} rows={rows} />
                ) : (
                  <div className="cvo-card-body">
                    <Text as="p" tone="subdued">
                      {q || group ? 'No customers match.' : 'No scored customers yet.'}
                    </Text>
                  </div>
                )}
                <div className="cvo-card-body cvo-pagination">
                  <Pagination
                    hasPrevious={current > 1}
                    hasNext={current < pages}
                    onPrevious={() => setPage(Math.max(1, current - 1))}
                    onNext={() => setPage(current + 1)}
                    label={`Page ${fmt.integer(current)} of ${fmt.integer(pages)}`}
                    accessibilityLabels={{previous: 'Previous page of customers', next: 'Next page of customers'}}
                  />
                </div>
              </Card>
            )}
          </Layout.Section>
        </Layout>
      </Page>
    </PageFrame>
  );
}
