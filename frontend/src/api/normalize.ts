// The pages' API passes some report structures through as the scoring
// packages write them (camelCase), while the page's contract names them in
// snake_case. These readers accept either, so the page shows the figures
// whichever form arrives.

import {isNum} from '../format';
import {KNOWN_GROUPS} from '../groups';
import type {DeliveriesStatus, Num, ScoringStatus, ShopInfo, SyncStatus} from './types';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(o: Obj, ...keys: string[]): Num {
  for (const k of keys) if (isNum(o[k])) return o[k] as number;
  return undefined;
}

function str(o: Obj, ...keys: string[]): string | undefined {
  for (const k of keys) if (typeof o[k] === 'string' && o[k]) return o[k] as string;
  return undefined;
}

export function groupName(slug: string | undefined): string | undefined {
  if (!slug) return undefined;
  return KNOWN_GROUPS.find((g) => g.slug === slug)?.name ?? slug;
}

export interface BacktestRow {
  label: string;
  customers: Num;
  predictedOrders: Num;
  actualOrders: Num;
  predictedRevenue: Num;
  actualRevenue: Num;
  mae: Num;
  correlation: Num;
}

export interface BacktestView {
  horizon?: {value: number; unit: 'days' | 'months'} | string;
  overall?: BacktestRow;
  groups: BacktestRow[];
  model?: string;
  fallback?: boolean;
}

function backtestRow(o: Obj, fallbackLabel: string): BacktestRow {
  return {
    label: str(o, 'name') ?? groupName(str(o, 'group', 'slug', 'key')) ?? fallbackLabel,
    customers: num(o, 'customers'),
    predictedOrders: num(o, 'predicted_orders', 'predictedOrders'),
    actualOrders: num(o, 'actual_orders', 'actualOrders'),
    predictedRevenue: num(o, 'predicted_revenue', 'predictedRevenue'),
    actualRevenue: num(o, 'actual_revenue', 'actualRevenue'),
    mae: num(o, 'mae', 'ordersMae', 'orders_mae'),
    correlation: num(o, 'correlation', 'ordersCorrelation', 'orders_correlation'),
  };
}

export function readBacktest(raw: unknown): BacktestView | undefined {
  if (!isObj(raw)) return undefined;
  let horizon: BacktestView['horizon'];
  if (isNum(raw.horizon)) horizon = {value: raw.horizon, unit: 'days'};
  else if (typeof raw.horizon === 'string' && raw.horizon) horizon = raw.horizon;
  else if (isNum(raw.holdoutMonths)) horizon = {value: raw.holdoutMonths, unit: 'months'};
  else if (isNum(raw.holdout_months)) horizon = {value: raw.holdout_months, unit: 'months'};
  const groups = Array.isArray(raw.groups) ? raw.groups.filter(isObj).map((g, i) => backtestRow(g, `Group ${i + 1}`)) : [];
  return {
    horizon,
    overall: isObj(raw.overall) ? backtestRow(raw.overall, 'All customers') : undefined,
    groups,
    model: str(raw, 'model'),
    fallback: typeof raw.fallback === 'boolean' ? raw.fallback : undefined,
  };
}

export interface IcpShare {
  label: string;
  customers: Num;
  share: Num;
  otherShare: Num;
}

export interface IcpView {
  topGroups: string[];
  topCustomers: Num;
  restCustomers: Num;
  lists: {key: string; title: string; item: string; rows: IcpShare[]}[];
  weekdays?: {top: Num[]; rest: Num[]};
  hours?: {top: Num[]; rest: Num[]};
}

const ICP_LISTS: {keys: string[]; title: string; item: string}[] = [
  {keys: ['countries'], title: 'Countries', item: 'Country'},
  {keys: ['cities'], title: 'Cities', item: 'City'},
  {keys: ['firstProducts', 'first_products'], title: 'First products', item: 'First product'},
];

function shares(v: unknown): IcpShare[] {
  if (!Array.isArray(v)) return [];
  return v.filter(isObj).map((s) => ({
    label: str(s, 'label', 'key', 'title', 'name') ?? '—',
    customers: num(s, 'customers'),
    share: num(s, 'share'),
    otherShare: num(s, 'otherShare', 'other_share'),
  }));
}

function series(v: unknown): Num[] | undefined {
  return Array.isArray(v) ? v.map((x) => (isNum(x) ? x : null)) : undefined;
}

// readIcp understands the scoring's top-versus-rest profile; anything else
// is left to the free-form renderer (it returns undefined).
export function readIcp(raw: unknown): IcpView | undefined {
  if (!isObj(raw) || !isObj(raw.top)) return undefined;
  const top = raw.top;
  const rest = isObj(raw.rest) ? raw.rest : {};
  const topGroups = (Array.isArray(raw.topGroups) ? raw.topGroups : Array.isArray(raw.top_groups) ? raw.top_groups : [])
    .filter((g): g is string => typeof g === 'string')
    .map((g) => groupName(g) ?? g);
  const lists = ICP_LISTS.map(({keys, title, item}) => {
    const key = keys.find((k) => k in top) ?? keys[0];
    return {key, title, item, rows: shares(top[key])};
  }).filter((l) => l.rows.length > 0);
  const wTop = series(top.weekdays);
  const hTop = series(top.hours);
  return {
    topGroups,
    topCustomers: num(top, 'customers'),
    restCustomers: num(rest, 'customers'),
    lists,
    weekdays: wTop ? {top: wTop, rest: series(rest.weekdays) ?? []} : undefined,
    hours: hTop ? {top: hTop, rest: series(rest.hours) ?? []} : undefined,
  };
}

// readShop reads GET /api/shop. The contract nests the status as {sync,
// deliveries, scoring}; servers before the contract sent the sync's own
// fields flat in status, with scoring and deliveries beside them, and a
// page may meet one during a rolling deploy, so both are read.
export function readShop(raw: unknown): ShopInfo {
  if (!isObj(raw)) return {};
  const shop = raw as ShopInfo & Obj;
  const status = isObj(shop.status) ? (shop.status as Obj) : undefined;
  if (!status) return shop;
  const sync = isObj(status.sync)
    ? (status.sync as SyncStatus)
    : ['phase', 'percent', 'rows_done', 'started_at', 'finished_at'].some((k) => k in status)
      ? (status as SyncStatus)
      : undefined;
  const scoring = isObj(status.scoring) ? (status.scoring as ScoringStatus) : undefined;
  const deliveries = isObj(status.deliveries) ? (status.deliveries as DeliveriesStatus) : undefined;
  const stage = typeof status.stage === 'string' ? (status.stage as NonNullable<ShopInfo['status']>['stage']) : undefined;
  return {...shop, status: {stage, sync, scoring, deliveries}};
}
