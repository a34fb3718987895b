// The survey editor's form: strings as typed, checked here as the server
// checks them (internal/survey), so errors show beside each field before
// anything is sent; the server's own message is shown when it still refuses.

import type {Survey, SurveyInput} from './api/types';

export interface QuestionForm {
  id: string;
  kind: 'single' | 'multiple' | 'text';
  text: string;
  // options, one per line.
  options: string;
}

export interface SurveyForm {
  key: string;
  title: string;
  status: 'draft' | 'active' | 'closed';
  npsQuestion: string;
  cesQuestion: string;
  whyQuestion: string;
  groups: string[];
  brandColor: string;
  language: 'auto' | 'en' | 'fr' | 'de';
  linkDays: string;
  retentionDays: string;
  questions: QuestionForm[];
}

export type SurveyErrors = Partial<Record<keyof SurveyForm | `question${number}`, string>>;

type Loose = Partial<Survey> | Partial<SurveyInput> | undefined;

export function fromSurvey(s: Loose): SurveyForm {
  const q = (s?.questions ?? []) as {id?: string; kind?: string; text?: string; options?: (string | undefined)[] | null}[];
  return {
    key: s?.key ?? '',
    title: s?.title ?? '',
    status: (s?.status as SurveyForm['status']) ?? 'draft',
    npsQuestion: s?.nps_question ?? '',
    cesQuestion: s?.ces_question ?? '',
    whyQuestion: s?.why_question ?? '',
    groups: ((s?.groups ?? []) as (string | undefined)[]).filter((g): g is string => !!g),
    brandColor: s?.brand_color || '#008060',
    language: (s?.language as SurveyForm['language']) || 'auto',
    linkDays: String(s?.link_days ?? 30),
    retentionDays: String(s?.retention_days ?? 730),
    questions: q.map((x, i) => ({
      id: x.id || `q${i + 1}`,
      kind: (x.kind as QuestionForm['kind']) || 'text',
      text: x.text ?? '',
      options: (x.options ?? []).filter((o): o is string => !!o).join('\n'),
    })),
  };
}

const KEY = /^[a-z0-9][a-z0-9_]{1,39}$/;
const COLOR = /^#[0-9a-fA-F]{6}$/;

function whole(v: string, lo: number, hi: number): boolean {
  if (!/^\d+$/.test(v.trim())) return false;
  const n = Number(v);
  return n >= lo && n <= hi;
}

function lines(v: string): string[] {
  return v
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

export function validate(f: SurveyForm): SurveyErrors {
  const e: SurveyErrors = {};
  if (!KEY.test(f.key)) e.key = "2–40 lower-case letters, digits or '_', starting with a letter or digit.";
  if (!f.title.trim() || f.title.length > 120) e.title = 'A title of 1–120 characters.';
  if (!f.npsQuestion.trim() && !f.cesQuestion.trim() && !f.whyQuestion.trim() && !f.questions.length) {
    e.npsQuestion = 'Ask at least one question.';
  }
  for (const [k, v] of [
    ['npsQuestion', f.npsQuestion],
    ['cesQuestion', f.cesQuestion],
    ['whyQuestion', f.whyQuestion],
  ] as const) {
    if (v.length > 300) e[k] = 'At most 300 characters.';
  }
  if (f.status === 'active' && !f.groups.length) e.groups = 'An active survey targets at least one group.';
  if (!COLOR.test(f.brandColor)) e.brandColor = 'A hex colour such as #008060.';
  if (!whole(f.linkDays, 1, 365)) e.linkDays = 'Between 1 and 365 days.';
  if (!whole(f.retentionDays, 30, 3650)) e.retentionDays = 'Between 30 and 3650 days.';
  if (f.questions.length > 10) e.questions = 'At most 10 custom questions.';
  const ids = new Set<string>();
  f.questions.forEach((q, i) => {
    const opts = lines(q.options);
    let msg = '';
    if (!/^[a-z0-9_]{1,20}$/.test(q.id) || ids.has(q.id)) msg = 'Each question needs a unique id (a–z, 0–9, _).';
    else if (!q.text.trim() || q.text.length > 300) msg = 'A question text of 1–300 characters.';
    else if (q.kind !== 'text' && (opts.length < 2 || opts.length > 12)) msg = '2–12 options, one per line.';
    else if (q.kind !== 'text' && new Set(opts).size !== opts.length) msg = 'Each option once.';
    if (msg) e[`question${i}`] = msg;
    ids.add(q.id);
  });
  return e;
}

export function surveyInput(f: SurveyForm): SurveyInput {
  return {
    key: f.key,
    title: f.title.trim(),
    status: f.status,
    nps_question: f.npsQuestion.trim(),
    ces_question: f.cesQuestion.trim(),
    why_question: f.whyQuestion.trim(),
    groups: f.groups as SurveyInput['groups'],
    brand_color: f.brandColor,
    language: f.language,
    link_days: Number(f.linkDays),
    retention_days: Number(f.retentionDays),
    questions: f.questions.map((q) => ({
      id: q.id,
      kind: q.kind,
      text: q.text.trim(),
      ...(q.kind === 'text' ? {} : {options: lines(q.options)}),
    })),
  };
}

// npsLabel shows an NPS with its sign, or a dash when nobody answered:
// no data is not a score of 0.
export function npsLabel(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const r = Math.round(v * 10) / 10;
  return r > 0 ? `+${r}` : String(r);
}
