import {Badge, BlockStack, Button, ButtonGroup, Card, InlineStack, Layout, Text, TextField} from '@shopify/polaris';
import {useState} from 'react';

import type {StickinessRow, Verdict} from '../api/types';
import {useApi} from '../api/useApi';
import {DataPage} from '../components/PageState';
import type {Column} from '../components/SortableTable';
import {SortableTable} from '../components/SortableTable';
import {useApp} from '../context';

type View = 'products' | 'vendors' | 'product_types';

const VIEWS: {id: View; label: string; heading: string}[] = [
  {id: 'products', label: 'Products', heading: 'Product'},
  {id: 'vendors', label: 'Vendors', heading: 'Vendor'},
  {id: 'product_types', label: 'Product types', heading: 'Product type'},
];

// The contract's verdicts: above (rockstar) and below (toxic) the shop's
// repeat rate.
export function VerdictBadge({verdict}: {verdict?: Verdict}) {
  if (verdict === 'above') return <Badge tone="success">Rockstar</Badge>;
  if (verdict === 'below') return <Badge tone="critical">Toxic</Badge>;
  return null;
}

export function ProductsPage() {
  const state = useApi('products', (api, signal) => api.GET('/products', {signal}));
  const [view, setView] = useState<View>('products');
  const [filter, setFilter] = useState('');
  return (
    <DataPage
      name="products"
      title="Products"
      state={state}
      isEmpty={(d) => !d.products?.length && !d.vendors?.length && !d.product_types?.length}
    >
      {(d) => {
        const current = VIEWS.find((v) => v.id === view)!;
        return (
          <Layout>
            <Layout.Section>
              <Text as="p" tone="subdued">
                Which first purchases bring customers back. Rockstars lead to repeat orders far more often than the shop's
                baseline; toxic ones far less often, with the difference unlikely to be chance.
              </Text>
            </Layout.Section>
            <Layout.Section>
              <Card padding="0">
                <div className="cvo-card-heading">
                  <InlineStack align="space-between" blockAlign="center" gap="200">
                    <Text as="h2" variant="headingMd">
                      Repurchase by first {current.heading.toLowerCase()}
                    </Text>
                    <ButtonGroup variant="segmented">
                      {VIEWS.map((v) => (
                        <Button key={v.id} pressed={view === v.id} onClick={() => setView(v.id)}>
                          {v.label}
                        </Button>
                      ))}
                    </ButtonGroup>
                  </InlineStack>
                </div>
                <div className="cvo-card-body">
                  <TextField
                    label={`Filter ${current.label.toLowerCase()}`}
                    value={filter}
                    onChange={setFilter}
                    autoComplete="off"
                    clearButton
                    onClearButtonClick={() => setFilter('')}
                    placeholder="Name contains…"
                  />
                </div>
                <StickinessTable key={`${view}|${filter}`} heading={current.heading} label={current.label.toLowerCase()} rows={matching(d[view] ?? [], filter)} />
              </Card>
            </Layout.Section>
          </Layout>
        );
      }}
    </DataPage>
  );
}

export function matching(rows: StickinessRow[], filter: string): StickinessRow[] {
  const f = filter.trim().toLocaleLowerCase();
  if (!f) return rows;
  return rows.filter((r) => (r.title || r.key || '').toLocaleLowerCase().includes(f));
}

const PAGE_SIZE = 50;

function StickinessTable({heading, label, rows}: {heading: string; label: string; rows: StickinessRow[]}) {
  const {fmt} = useApp();
  if (!rows.length) {
    return (
      <div className="cvo-card-body">
        <Text as="p" tone="subdued">
          Nothing to show.
        </Text>
      </div>
    );
  }
  const columns: Column<StickinessRow>[] = [
    {
      heading,
      sortValue: (r) => r.title || r.key,
      render: (r) => (
        <BlockStack gap="100">
          <span data-key={r.key}>
            <InlineStack gap="200" blockAlign="center">
              <Text as="span" fontWeight="semibold">
                {r.title || r.key || '—'}
              </Text>
              <VerdictBadge verdict={r.verdict} />
            </InlineStack>
          </span>
        </BlockStack>
      ),
    },
    {heading: 'Customers', numeric: true, sortValue: (r) => r.customers, render: (r) => <span data-cell="customers">{fmt.integer(r.customers)}</span>},
    {heading: 'Repurchase rate', numeric: true, sortValue: (r) => r.repurchase_rate, render: (r) => fmt.percent(r.repurchase_rate)},
    {heading: 'Baseline', numeric: true, sortValue: (r) => r.baseline, render: (r) => fmt.percent(r.baseline)},
    {heading: 'Later value', numeric: true, sortValue: (r) => r.later_value, render: (r) => fmt.money(r.later_value)},
    {heading: 'Chance it is luck', numeric: true, sortValue: (r) => r.p_value, render: (r) => fmt.pValue(r.p_value)},
  ];
  return <SortableTable columns={columns} rows={rows} initialSort={{column: 1, direction: 'descending'}} pageSize={PAGE_SIZE} label={label} />;
}
