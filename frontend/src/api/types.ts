// The JSON the app's API answers. Every field is optional: the page renders
// whatever subset arrives and shows a dash for the rest, so a server that is
// ahead of or behind the page never breaks it.

export type Num = number | null | undefined;

export interface SyncStatus {
  phase?: string;
  rows_done?: Num;
  rows_expected?: Num;
  percent?: Num;
  started_at?: string | null;
  finished_at?: string | null;
  error?: string | null;
}

export interface ScoringStatus {
  state?: string;
  last_scored_at?: string | null;
  error?: string | null;
}

// DeliveriesStatus counts the shop's webhook deliveries not applied: pending
// ones are on their way; dead ones failed every try and wait for the daily
// reconciliation; rejected ones can never be applied.
export interface DeliveriesStatus {
  pending?: Num;
  dead?: Num;
  rejected?: Num;
}

// DataExport is a customers/data_request export kept for the merchant
// until expires_at (GET /api/exports).
export interface DataExport {
  request_id?: string;
  customer_id?: string;
  created_at?: string | null;
  expires_at?: string | null;
}

export interface ShopInfo {
  shop?: string;
  name?: string;
  currency?: string;
  timezone?: string;
  installed?: boolean;
  scopes?: string[];
  installed_at?: string | null;
  token_expires_at?: string | null;
  status?: {sync?: SyncStatus; scoring?: ScoringStatus; deliveries?: DeliveriesStatus};
}

export interface Overview {
  scored_at?: string | null;
  customers?: Num;
  repeat_rate?: Num;
  retention_rate?: Num;
  retention_trend?: {month?: string; rate?: Num}[];
  avg_historical_clv?: Num;
  avg_predicted_clv?: Num;
  clv_cac?: Num;
  top_groups_revenue_share?: Num;
  model?: {name?: string; fallback?: boolean; reason?: string};
  warnings?: string[];
}

export interface Group {
  slug?: string;
  name?: string;
  tag?: string;
  segment_url?: string;
  customers?: Num;
  share?: Num;
  revenue_share?: Num;
  aov?: Num;
  avg_days_between_orders?: Num;
  avg_historical_clv?: Num;
  avg_predicted_clv?: Num;
  avg_p_alive?: Num;
  meaning?: string;
  action?: string;
}

export interface GridCell {
  r?: Num;
  f?: Num;
  customers?: Num;
}

export interface Transition {
  from?: string;
  to?: string;
  customers?: Num;
}

export interface Segments {
  scored_at?: string | null;
  groups?: Group[];
  grid?: GridCell[];
  movements?: {previous_scored_at?: string | null; transitions?: Transition[]};
}

export interface MonthlyCohort {
  cohort?: string;
  customers?: Num;
  retention?: Num[];
  revenue?: Num[];
}

export interface AcquisitionRow {
  key?: string;
  customers?: Num;
  repeat_rate?: Num;
  avg_later_value?: Num;
}

export interface Cohorts {
  monthly?: MonthlyCohort[];
  by_source?: AcquisitionRow[];
  by_campaign?: AcquisitionRow[];
  by_discount_code?: AcquisitionRow[];
}

export type Verdict = 'rockstar' | 'toxic' | '';

export interface StickinessRow {
  key?: string;
  title?: string;
  customers?: Num;
  repurchase_rate?: Num;
  baseline?: Num;
  later_value?: Num;
  p_value?: Num;
  verdict?: Verdict | string;
}

export interface Products {
  products?: StickinessRow[];
  vendors?: StickinessRow[];
  product_types?: StickinessRow[];
}

export interface CustomerRow {
  id?: string | number;
  name?: string;
  group?: string;
  r?: Num;
  f?: Num;
  m?: Num;
  historical_clv?: Num;
  predicted_clv?: Num;
  p_alive?: Num;
  expected_next_order?: string | null;
  admin_url?: string;
}

export interface CustomersPage {
  customers?: CustomerRow[];
  total?: Num;
  page?: Num;
  per_page?: Num;
}

export interface Anomaly {
  kind?: string;
  key?: string;
  month?: string;
  value?: Num;
  expected?: Num;
  score?: Num;
  note?: string;
}

export interface Insights {
  pareto?: {
    top20_revenue_share?: Num;
    top20_margin_share?: Num;
    curve?: {customers_share?: Num; revenue_share?: Num}[];
  };
  anomalies?: Anomaly[];
  // Free-form: the scoring's top-versus-rest profile, or named sections.
  icp?: unknown;
  // {horizon, overall, groups} in the contract; the scoring's camelCase
  // backtest is read as well (see api/normalize.ts).
  backtest?: unknown;
}

export interface Settings {
  tag_prefix?: string;
  groups_enabled?: string[];
  value_tags?: {predicted_value_tier?: boolean; churn_risk?: boolean};
  metafields?: boolean;
  cac?: Num;
  cac_by_source?: Record<string, number>;
  default_margin?: Num;
  refund_dating?: 'refund_date' | 'order_date' | string;
  schedule?: {nightly_hour?: Num};
}

export interface ActionResult {
  state?: string;
}
