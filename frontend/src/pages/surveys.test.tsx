import {screen, waitFor, within} from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {describe, expect, it} from 'vitest';

import {fakeApi, renderWithApp} from '../test/render';
import {SegmentsPage} from './Segments';
import {SurveysPage} from './Surveys';

const pageState = (name: string) => document.querySelector(`[data-page="${name}"]`)?.getAttribute('data-state');

const TEMPLATE = {
  id: 'why-stopped',
  title: 'Why did you stop buying?',
  description: 'For customers who are leaving.',
  survey: {key: 'why_stopped', title: 'Why did you stop buying?', status: 'draft', nps_question: 'Recommend?', why_question: 'Why?', groups: ['break-up'], questions: []},
};
const SURVEY = {
  id: 7,
  key: 'nps',
  title: 'NPS after delivery',
  status: 'active',
  nps_question: 'Recommend?',
  ces_question: '',
  why_question: 'Why?',
  questions: [],
  groups: ['soulmates', 'break-up'],
  brand_color: '#008060',
  language: 'auto',
  link_days: 30,
  retention_days: 730,
  metafield_key: 'survey_url_nps',
  responses: 3,
  created_at: '2026-11-01T00:00:00Z',
  updated_at: '2026-11-01T00:00:00Z',
};
const tally = (key: string, nps?: number, responses = 0) => ({key, responses, nps_responses: responses, promoters: 0, passives: 0, detractors: 0, ces_responses: 0, ...(nps === undefined ? {} : {nps})});
const RESULTS = {
  survey_id: 7,
  overall: tally('', -33.3, 3),
  by_group: [
    {group: 'soulmates', name: 'Soulmates', targeted: true, customers: 10, response_rate: 0.1, tally: tally('soulmates', 100, 1)},
    {group: 'break-up', name: 'Break-Up', targeted: true, customers: 20, response_rate: 0.1, tally: tally('break-up', -100, 2)},
    {group: 'lovers', name: 'Lovers', targeted: false, customers: 5, tally: tally('lovers')},
  ],
  by_vendor: [],
  by_product_type: [],
  by_country: [tally('United Kingdom', -33.3, 3)],
  by_source: [],
  trend: [tally('2026-11', -33.3, 3)],
};
const ANSWERS = {total: 1, page: 1, per_page: 25, answers: [{survey_id: 7, survey_title: 'NPS after delivery', customer_id: '42', group: 'break-up', nps: 2, why: 'Too slow', answers: [], submitted_at: '2026-11-20T10:00:00Z'}]};

describe('Surveys', () => {
  it('lists the surveys and shows a survey’s results by group, with no data as a dash', async () => {
    renderWithApp(<SurveysPage />, {
      api: fakeApi({'/api/surveys': {surveys: [SURVEY], templates: [TEMPLATE]}, '/api/surveys/7/results': RESULTS, '/api/surveys/7/answers': ANSWERS}),
    });
    await waitFor(() => expect(pageState('surveys')).toBe('ready'));
    expect(screen.getByText('3 responses')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', {name: 'Results'}));
    await waitFor(() => expect(document.querySelector('[data-metric="nps"]')?.textContent).toBe('-33.3'));
    const byGroup = screen.getByRole('heading', {name: 'By group'}).closest('.Polaris-ShadowBevel') as HTMLElement;
    const rows = within(byGroup).getAllByRole('row');
    expect(rows.map((r) => r.textContent).join('|')).toContain('Break-Up');
    expect(rows.map((r) => r.textContent).join('|')).not.toContain('Lovers');
    await waitFor(() => expect(screen.getByText('Too slow')).toBeInTheDocument());
  });

  it('creates a survey from a template and refuses bad input beside the field', async () => {
    const api = fakeApi({'/api/surveys': {surveys: [], templates: [TEMPLATE]}, 'POST /api/surveys': SURVEY});
    renderWithApp(<SurveysPage />, {api});
    await waitFor(() => expect(pageState('surveys')).toBe('ready'));
    await userEvent.click(screen.getByRole('button', {name: 'Start from Why did you stop buying?'}));
    const colour = screen.getByLabelText('Brand colour');
    await userEvent.clear(colour);
    await userEvent.type(colour, 'green');
    await userEvent.click(screen.getByRole('button', {name: 'Save survey'}));
    expect(await screen.findByText('A hex colour such as #008060.')).toBeInTheDocument();
    expect(api.calls.filter((c) => c.method === 'POST')).toHaveLength(0);
    await userEvent.clear(colour);
    await userEvent.type(colour, '#aa0000');
    await userEvent.click(screen.getByRole('button', {name: 'Save survey'}));
    await waitFor(() => expect(api.calls.filter((c) => c.method === 'POST')).toHaveLength(1));
    const body = api.calls.find((c) => c.method === 'POST')?.body as {key: string; brand_color: string; groups: string[]};
    expect(body.key).toBe('why_stopped');
    expect(body.brand_color).toBe('#aa0000');
    expect(body.groups).toEqual(['break-up']);
  });
});

describe('Segments NPS', () => {
  it('shows each group’s NPS beside its value, a dash where nobody answered', async () => {
    const segments = {
      scored_at: '2026-11-20T03:00:00Z',
      groups: [
        {slug: 'soulmates', name: 'Soulmates', customers: 120},
        {slug: 'break-up', name: 'Break-Up', customers: 900},
      ],
      grid: [{r: 5, f: 5, customers: 120}],
    };
    renderWithApp(<SegmentsPage />, {api: fakeApi({'/api/segments': segments, '/api/surveys/nps-by-group': {groups: [{group: 'soulmates', responses: 12, nps: 41.7}]}})});
    await waitFor(() => expect(pageState('segments')).toBe('ready'));
    await waitFor(() => expect(document.querySelector('[data-cell="nps"]')?.textContent).toBe('+41.7'));
    const cells = [...document.querySelectorAll('[data-cell="nps"]')].map((c) => c.textContent);
    expect(cells).toEqual(['+41.7', '—']);
  });
});
