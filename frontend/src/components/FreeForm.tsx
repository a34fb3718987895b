import {BlockStack, DataTable, Text} from '@shopify/polaris';
import type {ReactNode} from 'react';

import type {Formatter} from '../format';
import {isNum} from '../format';

// The ICP report is free-form: sections of rows whose fields vary. These
// helpers render any such section readably, guessing a number's kind from
// its field name.

export function humanize(key: string): string {
  const s = key.replace(/[_-]+/g, ' ').trim();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function formatField(fmt: Formatter, key: string, v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'boolean') return v ? 'Yes' : 'No';
  if (isNum(v)) {
    const k = key.toLowerCase();
    if (/(share|rate|pct|percent|ratio_of|probability|p_alive)/.test(k)) return fmt.percent(v);
    if (/(value|revenue|clv|aov|spend|sales|amount|margin)/.test(k)) return fmt.money(v);
    if (/month$/.test(k)) return String(v);
    return fmt.number(v);
  }
  if (typeof v === 'string') return /^\d{4}-\d{2}$/.test(v) ? fmt.month(v) : v;
  if (Array.isArray(v)) return v.map((x) => formatField(fmt, key, x)).join(', ');
  return JSON.stringify(v);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function FreeFormSection({name, value, fmt}: {name: string; value: unknown; fmt: Formatter}) {
  let body: ReactNode;
  if (Array.isArray(value) && value.every(isRecord)) {
    const keys = Array.from(new Set(value.flatMap((r) => Object.keys(r))));
    body = value.length ? (
      <DataTable
        columnContentTypes={keys.map((k) => (value.some((r) => isNum(r[k])) ? 'numeric' : 'text'))}
        headings={keys.map(humanize)}
        rows={value.map((r) => keys.map((k) => formatField(fmt, k, r[k])))}
      />
    ) : (
      <Text as="p" tone="subdued">
        No data.
      </Text>
    );
  } else if (Array.isArray(value)) {
    body = (
      <ul className="cvo-list">
        {value.map((v, i) => (
          <li key={i}>{formatField(fmt, name, v)}</li>
        ))}
      </ul>
    );
  } else if (isRecord(value)) {
    const entries = Object.entries(value);
    body = (
      <DataTable
        columnContentTypes={['text', 'numeric']}
        headings={['', 'Value']}
        rows={entries.map(([k, v]) => [humanize(k), formatField(fmt, k, v)])}
      />
    );
  } else {
    body = <Text as="p">{formatField(fmt, name, value)}</Text>;
  }
  return (
    <BlockStack gap="200">
      <Text as="h3" variant="headingSm">
        {humanize(name)}
      </Text>
      {body}
    </BlockStack>
  );
}
