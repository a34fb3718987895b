import type {Settings} from './api/types';
import {isNum} from './format';

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
  cac: string;
  marginPercent: string;
  refundDating: string;
  nightlyHour: string;
}

export const TAG_PREFIX = /^[a-z0-9][a-z0-9_-]{0,19}$/;

type Raw = Settings & {nightly_hour?: number | null; segments?: boolean};

export function fromSettings(s: Raw): SettingsForm {
  const hour = isNum(s.schedule?.nightly_hour) ? s.schedule?.nightly_hour : s.nightly_hour;
  return {
    tagPrefix: s.tag_prefix ?? '',
    groupsEnabled: Array.isArray(s.groups_enabled) ? [...s.groups_enabled] : null,
    predictedValueTier: !!s.value_tags?.predicted_value_tier,
    churnRisk: !!s.value_tags?.churn_risk,
    metafields: !!s.metafields,
    segments: typeof s.segments === 'boolean' ? s.segments : undefined,
    cac: isNum(s.cac) ? String(s.cac) : '',
    marginPercent: isNum(s.default_margin) ? String(Math.round(s.default_margin * 10000) / 100) : '',
    refundDating: s.refund_dating || 'refund_date',
    nightlyHour: isNum(hour) ? String(hour) : '3',
  };
}

export interface FormErrors {
  tagPrefix?: string;
  cac?: string;
  marginPercent?: string;
}

export function validate(f: SettingsForm): FormErrors {
  const e: FormErrors = {};
  if (!TAG_PREFIX.test(f.tagPrefix)) {
    e.tagPrefix = "Use 1–20 lower-case letters, digits, '-' or '_', starting with a letter or digit.";
  }
  const cac = Number(f.cac);
  if (f.cac.trim() !== '' && (!Number.isFinite(cac) || cac < 0 || cac > 1e7)) {
    e.cac = 'Enter a cost between 0 and 10,000,000.';
  }
  const margin = Number(f.marginPercent);
  if (f.marginPercent.trim() === '' || !Number.isFinite(margin) || margin < 0 || margin > 100) {
    e.marginPercent = 'Enter a margin between 0 and 100%.';
  }
  return e;
}

export function toSettings(original: Raw, f: SettingsForm): Raw {
  const out: Raw = {
    ...original,
    tag_prefix: f.tagPrefix,
    groups_enabled: f.groupsEnabled as string[],
    value_tags: {...original.value_tags, predicted_value_tier: f.predictedValueTier, churn_risk: f.churnRisk},
    metafields: f.metafields,
    cac: f.cac.trim() === '' ? 0 : Number(f.cac),
    default_margin: Math.round(Number(f.marginPercent) * 100) / 10000,
    refund_dating: f.refundDating,
  };
  if (f.segments !== undefined) out.segments = f.segments;
  const hour = Number(f.nightlyHour);
  // The hour goes back where the server keeps it.
  if ('nightly_hour' in original && !original.schedule) out.nightly_hour = hour;
  else out.schedule = {...original.schedule, nightly_hour: hour};
  return out;
}
