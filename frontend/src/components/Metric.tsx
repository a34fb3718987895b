import {BlockStack, Card, Text} from '@shopify/polaris';
import type {ReactNode} from 'react';

// Metric is one headline figure. data-metric lets the e2e harness find the
// number and compare it with the API's answer.
export function Metric({id, label, value, help}: {id: string; label: string; value: string; help?: ReactNode}) {
  return (
    <Card>
      <BlockStack gap="100">
        <Text as="h3" variant="headingSm" tone="subdued">
          {label}
        </Text>
        <Text as="p" variant="heading2xl">
          <span data-metric={id}>{value}</span>
        </Text>
        {help ? (
          <Text as="p" variant="bodySm" tone="subdued">
            {help}
          </Text>
        ) : null}
      </BlockStack>
    </Card>
  );
}

export function MetricGrid({children}: {children: ReactNode}) {
  return <div className="cvo-metric-grid">{children}</div>;
}
