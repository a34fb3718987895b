import {describe, expect, it} from 'vitest';

import {fromSurvey, npsLabel, surveyInput, validate} from './surveyForm';

describe('survey form', () => {
  const template = {
    key: 'why_stopped',
    title: 'Why did you stop buying?',
    status: 'draft' as const,
    nps_question: 'Recommend?',
    why_question: 'Why?',
    groups: ['break-up' as const],
    questions: [{id: 'reason', kind: 'single' as const, text: 'Reason?', options: ['Price', 'Quality']}],
  };

  it('round-trips a template into the API input', () => {
    const f = fromSurvey(template);
    expect(validate(f)).toEqual({});
    const input = surveyInput(f);
    expect(input.questions?.[0]).toEqual({id: 'reason', kind: 'single', text: 'Reason?', options: ['Price', 'Quality']});
    expect(input.link_days).toBe(30);
    expect(input.retention_days).toBe(730);
  });

  it('puts each error beside its field', () => {
    const f = fromSurvey(template);
    f.key = 'Bad Key';
    f.status = 'active';
    f.groups = [];
    f.brandColor = 'green';
    f.linkDays = '0';
    f.questions[0].options = 'Only one';
    const e = validate(f);
    expect(Object.keys(e).sort()).toEqual(['brandColor', 'groups', 'key', 'linkDays', 'question0'].sort());
  });

  it('asks for at least one question', () => {
    const f = fromSurvey({...template, nps_question: '', why_question: '', questions: []});
    expect(validate(f).npsQuestion).toBeTruthy();
  });

  it('shows no data as a dash, not 0', () => {
    expect(npsLabel(undefined)).toBe('—');
    expect(npsLabel(null)).toBe('—');
    expect(npsLabel(0)).toBe('0');
    expect(npsLabel(12.345)).toBe('+12.3');
    expect(npsLabel(-40)).toBe('-40');
  });
});
