import type {Num, ShopifyCrosswalk} from '../api/types';
import {KNOWN_GROUPS} from '../groups';

export interface CrosswalkGrid {
  rowLabels: string[];
  colLabels: string[];
  // cols are Shopify's values behind colLabels ("" for none given).
  cols: string[];
  values: Num[][];
  total: number;
}

// shopifyLabel names one of Shopify's groups in words.
export function shopifyLabel(v: string): string {
  if (!v) return 'None given';
  const s = v.toLowerCase().replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// crosswalkGrid lays the crosswalk out as our eleven groups (rows, most
// valuable first) against Shopify's groups that hold anyone (columns, in
// Shopify's order). Empty cells are 0, so the heatmap reads as counts.
export function crosswalkGrid(cw: ShopifyCrosswalk | undefined): CrosswalkGrid {
  const cells = cw?.cells ?? [];
  const used = new Set(cells.filter((c) => (c.customers ?? 0) > 0).map((c) => c.shopify_group ?? ''));
  const order = cw?.shopify_groups ?? [];
  const cols = order.filter((g) => used.has(g ?? ''));
  for (const g of used) if (!cols.includes(g)) cols.push(g);
  const rows = KNOWN_GROUPS;
  const values = rows.map(() => cols.map(() => 0 as Num));
  let total = 0;
  for (const c of cells) {
    const r = rows.findIndex((g) => g.slug === c.group);
    const k = cols.indexOf(c.shopify_group ?? '');
    const n = c.customers ?? 0;
    if (r < 0 || k < 0) continue;
    values[r][k] = (values[r][k] ?? 0) + n;
    total += n;
  }
  return {rowLabels: rows.map((g) => g.name), colLabels: cols.map(shopifyLabel), cols, values, total};
}
