import type {components} from './api/schema';
import type {Settings, SettingsInput} from './api/types';
import {isNum} from './format';
import {KNOWN_GROUPS} from './groups';
import {formatInput, parseNumber} from './numberInput';

// The form's own view of the settings: strings for text inputs, the margin
// as a percentage. toSettings writes the edits back into the object the
// server sent, so fields this page does not know survive a save.

export interface SettingsForm {
  tagPrefix: string;
  groupsEnabled: string[] | null; // null: all groups
  predictedValueTier: boolean;
  churnRisk: boolean;
  metafields: boolean;
  segments?: boolean;
  // Also write survey links where email apps can read them.
  shareSurveyLinks: boolean;
  cac: string;
  // One "source = cost" per line, e.g. "google = 25".
  cacBySource: string;
  marginPercent: string;
  refundDating: string;
  nightlyHour: string;
  // The headline prediction: its window in days and the churn-risk
  // thresholds as percentages.
  windowDays: string;
  churnHighPercent: string;
  churnMediumPercent: string;
}

export const TAG_PREFIX = /^[a-z0-9][a-z0-9_-]{0,19}$/;

// Raw is the settings as read: the enumerated fields as plain text until
// settingsInput checks them.
type Raw = Omit<Settings, 'groups_enabled' | 'refund_dating' | 'share_survey_links'> & {
  groups_enabled?: string[] | null;
  refund_dating?: string;
  nightly_hour?: number | null;
  segments?: boolean;
  share_survey_links?: boolean;
};

type GroupSlug = components['schemas']['GroupSlug'];

function isGroupSlug(s: string): s is GroupSlug {
  return KNOWN_GROUPS.some((g) => g.slug === s);
}

// settingsInput is what PUT /api/settings takes: the contract's fields
// only, the hour where the contract keeps it, and only the values it knows.
export function settingsInput(s: Raw): SettingsInput {
  const hour = isNum(s.schedule?.nightly_hour) ? s.schedule.nightly_hour : s.nightly_hour;
  const out: SettingsInput = {
    tag_prefix: s.tag_prefix,
    groups_enabled: Array.isArray(s.groups_enabled) ? s.groups_enabled.filter(isGroupSlug) : null,
    value_tags: s.value_tags,
    metafields: s.metafields,
    segments: s.segments,
    share_survey_links: s.share_survey_links,
    cac: s.cac ?? undefined,
    cac_by_source: s.cac_by_source && Object.fromEntries(Object.entries(s.cac_by_source).filter((e): e is [string, number] => isNum(e[1]))),
    default_margin: s.default_margin ?? undefined,
    refund_dating: s.refund_dating === 'order_date' ? 'order_date' : 'refund_date',
  };
  if (isNum(hour)) out.schedule = {nightly_hour: hour};
  const p = s.prediction;
  if (p && isNum(p.window_days) && isNum(p.churn_risk_high) && isNum(p.churn_risk_medium)) {
    out.prediction = {window_days: p.window_days, churn_risk_high: p.churn_risk_high, churn_risk_medium: p.churn_risk_medium};
  }
  return out;
}

// fromSettings fills the form, numbers written the merchant's way.
export function fromSettings(s: Raw, locale = 'en'): SettingsForm {
  const hour = isNum(s.schedule?.nightly_hour) ? s.schedule?.nightly_hour : s.nightly_hour;
  return {
    tagPrefix: s.tag_prefix ?? '',
    groupsEnabled: Array.isArray(s.groups_enabled) ? [...s.groups_enabled] : null,
    predictedValueTier: !!s.value_tags?.predicted_value_tier,
    churnRisk: !!s.value_tags?.churn_risk,
    metafields: !!s.metafields,
    shareSurveyLinks: !!s.share_survey_links,
    segments: typeof s.segments === 'boolean' ? s.segments : undefined,
    // No acquisition cost is stored as 0: the field shows empty, as left.
    cac: isNum(s.cac) && s.cac !== 0 ? formatInput(s.cac, locale) : '',
    cacBySource: Object.entries(s.cac_by_source ?? {})
      .filter((e): e is [string, number] => isNum(e[1]))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k} = ${formatInput(v, locale)}`)
      .join('\n'),
    marginPercent: isNum(s.default_margin) ? formatInput(s.default_margin * 100, locale) : '',
    refundDating: s.refund_dating || 'refund_date',
    nightlyHour: isNum(hour) ? String(hour) : '3',
    windowDays: isNum(s.prediction?.window_days) ? String(s.prediction.window_days) : '90',
    churnHighPercent: percentText(s.prediction?.churn_risk_high, 10, locale),
    churnMediumPercent: percentText(s.prediction?.churn_risk_medium, 30, locale),
  };
}

function percentText(v: number | null | undefined, dflt: number, locale: string): string {
  return formatInput(isNum(v) ? Math.round(v * 10000) / 100 : dflt, locale);
}

export interface FormErrors {
  tagPrefix?: string;
  cac?: string;
  cacBySource?: string;
  marginPercent?: string;
  nightlyHour?: string;
  windowDays?: string;
  churnHighPercent?: string;
  churnMediumPercent?: string;
}

export const MAX_COST = 1e7;

// parseCacBySource reads "source = cost" lines; blank lines are skipped.
export function parseCacBySource(text: string, locale = 'en'): {value: Record<string, number>; error?: string} {
  const value: Record<string, number> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const m = /^([^=:]+?)\s*[=:]\s*(.+)$/.exec(line);
    if (!m || m[1].trim() === '') return {value, error: `Line ${i + 1}: write a source and a cost, like "google = 25".`};
    const cost = parseNumber(m[2], locale);
    if (cost.error !== undefined) return {value, error: `Line ${i + 1}: ${cost.error}`};
    if (cost.value < 0 || cost.value > MAX_COST) return {value, error: `Line ${i + 1}: enter a cost between 0 and 10,000,000.`};
    value[m[1].trim().toLowerCase()] = cost.value;
  }
  return {value};
}

export const MARGIN_ERROR = 'Enter a margin above 0 and at most 100%.';

export function validate(f: SettingsForm, locale = 'en'): FormErrors {
  const e: FormErrors = {};
  if (!TAG_PREFIX.test(f.tagPrefix)) {
    e.tagPrefix = "Use 1–20 lower-case letters, digits, '-' or '_', starting with a letter or digit.";
  }
  if (f.cac.trim() !== '') {
    const cac = parseNumber(f.cac, locale);
    if (cac.error !== undefined) e.cac = cac.error;
    else if (cac.value < 0 || cac.value > MAX_COST) e.cac = 'Enter a cost between 0 and 10,000,000.';
  }
  const bySource = parseCacBySource(f.cacBySource, locale);
  if (bySource.error) e.cacBySource = bySource.error;
  const margin = f.marginPercent.trim() === '' ? {error: MARGIN_ERROR} : parseNumber(f.marginPercent, locale);
  if (margin.error !== undefined) e.marginPercent = margin.error;
  else if (margin.value <= 0 || margin.value > 100) e.marginPercent = MARGIN_ERROR;
  const days = /^\s*\d+\s*$/.test(f.windowDays) ? Number(f.windowDays) : NaN;
  if (!Number.isInteger(days) || days < 1 || days > 3660) {
    e.windowDays = 'Enter a whole number of days from 1 to 3660.';
  }
  const high = f.churnHighPercent.trim() === '' ? undefined : parseNumber(f.churnHighPercent, locale).value;
  const medium = f.churnMediumPercent.trim() === '' ? undefined : parseNumber(f.churnMediumPercent, locale).value;
  const okHigh = high !== undefined && high > 0 && high < 100;
  const okMedium = medium !== undefined && medium > 0 && medium < 100;
  if (!okHigh) e.churnHighPercent = 'Enter a chance above 0 and below 100%.';
  if (!okMedium) e.churnMediumPercent = 'Enter a chance above 0 and below 100%.';
  else if (okHigh && high > medium) e.churnMediumPercent = 'Must be at least the high-risk threshold.';
  return e;
}

// marginHint warns, without refusing, of a margin that looks typed as a
// fraction in the percent field ("0.45" for 45%).
export function marginHint(f: SettingsForm, locale = 'en'): string | undefined {
  const m = parseNumber(f.marginPercent, locale);
  if (m.error === undefined && m.value > 0 && m.value < 1) {
    return `That is ${formatInput(m.value, locale)}% of revenue. For ${formatInput(m.value * 100, locale)}%, enter ${formatInput(m.value * 100, locale)}.`;
  }
  return undefined;
}

// SERVER_FIELDS maps the API's field names (an error's field) to the
// form's, so a refusal by the server shows beside the field too.
const SERVER_FIELDS: Record<string, keyof FormErrors> = {
  tag_prefix: 'tagPrefix',
  cac: 'cac',
  cac_by_source: 'cacBySource',
  default_margin: 'marginPercent',
  'schedule.nightly_hour': 'nightlyHour',
  'prediction.window_days': 'windowDays',
  'prediction.churn_risk_high': 'churnHighPercent',
  'prediction.churn_risk_medium': 'churnMediumPercent',
};

// fieldOfServerError places the server's message beside the field it is
// about, in the unit the form shows (the API keeps the margin as a
// fraction, the form in percent).
export function fieldOfServerError(field: string | undefined, message: string): {field?: keyof FormErrors; message: string} {
  const key = field ? SERVER_FIELDS[field] : undefined;
  if (key === 'marginPercent') return {field: key, message: MARGIN_ERROR};
  return {field: key, message};
}

export function toSettings(original: Raw, f: SettingsForm, locale = 'en'): Raw {
  const num = (text: string) => parseNumber(text, locale).value ?? NaN;
  const out: Raw = {
    ...original,
    tag_prefix: f.tagPrefix,
    groups_enabled: f.groupsEnabled as string[],
    value_tags: {...original.value_tags, predicted_value_tier: f.predictedValueTier, churn_risk: f.churnRisk},
    metafields: f.metafields,
    share_survey_links: f.shareSurveyLinks,
    cac: f.cac.trim() === '' ? 0 : num(f.cac),
    cac_by_source: parseCacBySource(f.cacBySource, locale).value,
    default_margin: Math.round(num(f.marginPercent) * 100) / 10000,
    refund_dating: f.refundDating,
  };
  if (f.segments !== undefined) out.segments = f.segments;
  out.prediction = {
    ...original.prediction,
    window_days: Number(f.windowDays),
    churn_risk_high: Math.round(num(f.churnHighPercent) * 100) / 10000,
    churn_risk_medium: Math.round(num(f.churnMediumPercent) * 100) / 10000,
  };
  const hour = Number(f.nightlyHour);
  // The hour goes back where the server keeps it.
  if ('nightly_hour' in original && !original.schedule) out.nightly_hour = hour;
  else out.schedule = {...original.schedule, nightly_hour: hour};
  return out;
}
