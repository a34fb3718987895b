import {BlockStack, Box, Button, Card, Collapsible, Text} from '@shopify/polaris';
import {useId, useState} from 'react';

import type {TermId} from '../glossary';
import {MODELS, TERMS} from '../glossary';

// HowComputed is the page's help panel: a one-line definition of each
// figure it shows and, with models, what the model names mean. Closed by
// default; one button opens it.
export function HowComputed({terms, models = false}: {terms: TermId[]; models?: boolean}) {
  const [open, setOpen] = useState(false);
  const id = useId();
  return (
    <Card>
      <BlockStack gap="200">
        <div>
          <Button variant="plain" disclosure={open ? 'up' : 'down'} onClick={() => setOpen((o) => !o)} ariaExpanded={open} ariaControls={id}>
            How this is computed
          </Button>
        </div>
        <Collapsible id={id} open={open} transition={false}>
          <Box paddingBlockStart="200">
            <dl className="cvo-glossary" data-help="how-computed">
              {terms.map((t) => (
                <div key={t}>
                  <dt>{TERMS[t].term}</dt>
                  <dd>{TERMS[t].definition}</dd>
                </div>
              ))}
              {models
                ? MODELS.map((m) => (
                    <div key={m.term}>
                      <dt>{m.term}</dt>
                      <dd>{m.definition}</dd>
                    </div>
                  ))
                : null}
            </dl>
            <Text as="p" variant="bodySm" tone="subdued">
              Orders count when they are not tests, not cancelled and not refunded in full; amounts are in your shop&apos;s currency, net of refunds.
            </Text>
          </Box>
        </Collapsible>
      </BlockStack>
    </Card>
  );
}

// Defined is a figure's name with its definition on hover and focus (the
// title attribute), dotted-underlined so it reads as explained.
export function Defined({term, children}: {term: TermId; children?: string}) {
  return (
    <span className="cvo-defined" title={TERMS[term].definition}>
      {children ?? TERMS[term].term}
    </span>
  );
}
