// The API's types, named for the page. Every shape comes from the contract,
// internal/web/openapi.yaml, through the generated schema.d.ts (`make
// generate`): a field renamed or retyped there breaks the page's build.

import type {components} from './schema';

// Lenient is how the page reads an answer: every field may be missing and
// every number null, so the page renders whatever subset arrives and shows
// a dash for the rest (a server behind or ahead of the page never breaks
// it), but only fields the contract names, with the contract's types.
export type Lenient<T> = T extends number
  ? T | null
  : T extends (infer U)[]
    ? Lenient<U>[]
    : T extends object
      ? {[K in keyof T]?: Lenient<T[K]>}
      : T;

type Schemas = {[K in keyof components['schemas']]: Lenient<components['schemas'][K]>};

export type Num = number | null | undefined;

export type SyncStatus = Schemas['SyncStatus'];
export type ScoringStatus = Schemas['ScoringStatus'];
// DeliveriesStatus counts the shop's webhook deliveries not applied: pending
// ones are on their way; dead ones failed every try and wait for the daily
// reconciliation; rejected ones can never be applied.
export type DeliveriesStatus = Schemas['DeliveriesStatus'];
// DataExport is a customers/data_request export kept for the merchant
// until expires_at (GET /api/exports).
export type DataExport = Schemas['DataExport'];
export type ShopInfo = Schemas['Shop'];
export type Overview = Schemas['Overview'];
export type Group = Schemas['Group'];
export type GridCell = Schemas['GridCell'];
export type Transition = Schemas['Transition'];
export type Segments = Schemas['Segments'];
export type MonthlyCohort = Schemas['MonthlyCohort'];
export type AcquisitionRow = Schemas['SegmentRow'];
export type Cohorts = Schemas['Cohorts'];
export type Verdict = Schemas['Verdict'];
export type StickinessRow = Schemas['SegmentRow'];
export type Products = Schemas['Products'];
export type CustomerRow = Schemas['CustomerRow'];
export type CustomersPage = Schemas['CustomersPage'];
export type CustomerDetail = Schemas['CustomerDetail'];
export type TimelineOrder = Schemas['TimelineOrder'];
export type GroupHistoryEntry = Schemas['GroupHistoryEntry'];
export type ShopifyCrosswalk = Schemas['ShopifyCrosswalk'];
export type Anomaly = Schemas['Anomaly'];
export type Insights = Schemas['Insights'];
// LifetimeValue is GET /api/lifetime-value: cumulative value per customer by
// month since the first order, CAC payback and steady repeat customers.
export type LifetimeValue = Schemas['LifetimeValue'];
export type LtvCohort = Schemas['LtvCohort'];
export type LtvCurve = Schemas['LtvCurve'];
export type LtvPayback = Schemas['LtvPayback'];
export type Settings = Schemas['Settings'];
// SettingsInput is what PUT /api/settings takes, exactly as the contract says.
export type SettingsInput = components['schemas']['SettingsInput'];
export type ActionResult = Schemas['ActionResult'];
// Customer surveys (GET /api/surveys and friends).
export type Survey = Schemas['Survey'];
export type SurveyList = Schemas['SurveyList'];
export type SurveyTemplate = Schemas['SurveyTemplate'];
export type SurveyResults = Schemas['SurveyResults'];
export type NpsTally = Schemas['NpsTally'];
export type GroupTally = Schemas['GroupTally'];
export type SurveyAnswer = Schemas['SurveyAnswer'];
// SurveyInput is what POST and PUT /api/surveys take, exactly as the contract says.
export type SurveyInput = components['schemas']['SurveyInput'];
