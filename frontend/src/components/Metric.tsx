import {BlockStack, Card, Text} from '@shopify/polaris';
import type {ReactNode} from 'react';

import type {TermId} from '../glossary';
import {TERMS} from '../glossary';

// Metric is one headline figure. data-metric lets the e2e harness find the
// number and compare it with the API's answer. With a term, its name and
// one-line definition (on hover and focus) come from the glossary.
export function Metric({id, label, term, value, help}: {id: string; label?: string; term?: TermId; value: string; help?: ReactNode}) {
  const name = label ?? (term ? TERMS[term].term : id);
  return (
    <Card>
      <BlockStack gap="100">
        <Text as="h3" variant="headingSm" tone="subdued">
          {term ? (
            <span className="cvo-defined" title={TERMS[term].definition} tabIndex={0} data-definition={term}>
              {name}
            </span>
          ) : (
            name
          )}
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
