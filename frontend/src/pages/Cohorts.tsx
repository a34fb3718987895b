import {BlockStack, ButtonGroup, Button, Card, InlineStack, Layout, Text} from '@shopify/polaris';
import {useState} from 'react';

import type {AcquisitionRow} from '../api/types';
import {useApi} from '../api/useApi';
import type {CohortMeasure} from '../components/CohortHeatmap';
import {CohortHeatmap} from '../components/CohortHeatmap';
import {DataPage} from '../components/PageState';
import type {Column} from '../components/SortableTable';
import {SortableTable} from '../components/SortableTable';
import {useApp} from '../context';

export function CohortsPage() {
  const {fmt} = useApp();
  const state = useApi('cohorts', (api, signal) => api.GET('/cohorts', {signal}));
  const [measure, setMeasure] = useState<CohortMeasure>('retention');
  return (
    <DataPage
      name="cohorts"
      title="Cohorts"
      state={state}
      isEmpty={(d) => !d.monthly?.length && !d.by_source?.length && !d.by_campaign?.length && !d.by_discount_code?.length}
    >
      {(d) => (
        <Layout>
          <Layout.Section>
            <Card>
              <BlockStack gap="300">
                <InlineStack align="space-between" blockAlign="center" gap="200">
                  <Text as="h2" variant="headingMd">
                    Monthly cohorts
                  </Text>
                  <ButtonGroup variant="segmented">
                    <Button pressed={measure === 'retention'} onClick={() => setMeasure('retention')}>
                      Retention
                    </Button>
                    <Button pressed={measure === 'revenue'} onClick={() => setMeasure('revenue')}>
                      Revenue
                    </Button>
                  </ButtonGroup>
                </InlineStack>
                <Text as="p" tone="subdued">
                  Rows are the month of each customer's first order; columns count months since then.
                  {d.partial_month ? ` Dashed cells are ${fmt.month(d.partial_month)}, which is not over: they count orders so far.` : ''}
                </Text>
                {d.monthly?.length ? (
                  <CohortHeatmap cohorts={d.monthly} measure={measure} fmt={fmt} partialMonth={d.partial_month} />
                ) : (
                  <Text as="p">No monthly cohorts yet.</Text>
                )}
              </BlockStack>
            </Card>
          </Layout.Section>
          <Layout.Section>
            <AcquisitionTable title="By first-order source" keyHeading="Source" rows={d.by_source ?? []} />
          </Layout.Section>
          <Layout.Section>
            <AcquisitionTable title="By campaign" keyHeading="Campaign" rows={d.by_campaign ?? []} />
          </Layout.Section>
          <Layout.Section>
            <AcquisitionTable title="By first-order discount code" keyHeading="Discount code" rows={d.by_discount_code ?? []} />
          </Layout.Section>
        </Layout>
      )}
    </DataPage>
  );
}

function AcquisitionTable({title, keyHeading, rows}: {title: string; keyHeading: string; rows: AcquisitionRow[]}) {
  const {fmt} = useApp();
  const columns: Column<AcquisitionRow>[] = [
    {heading: keyHeading, sortValue: (r) => r.key, render: (r) => r.key || '(none)'},
    {heading: 'Customers', numeric: true, sortValue: (r) => r.customers, render: (r) => fmt.integer(r.customers)},
    {heading: 'Repeat rate', numeric: true, sortValue: (r) => r.repeat_rate, render: (r) => fmt.percent(r.repeat_rate)},
    {heading: 'Average later value', numeric: true, sortValue: (r) => r.avg_later_value, render: (r) => fmt.money(r.avg_later_value)},
  ];
  return (
    <Card padding="0">
      <div className="cvo-card-heading">
        <Text as="h2" variant="headingMd">
          {title}
        </Text>
      </div>
      {rows.length ? (
        <SortableTable columns={columns} rows={rows} initialSort={{column: 1, direction: 'descending'}} />
      ) : (
        <div className="cvo-card-body">
          <Text as="p" tone="subdued">
            No data yet.
          </Text>
        </div>
      )}
    </Card>
  );
}
