import {screen, waitFor} from '@testing-library/react';
import {describe, expect, it} from 'vitest';

import {fakeApi, renderWithApp} from '../test/render';
import {CustomerSurveyAnswers} from './CustomerSurveyAnswers';

describe('CustomerSurveyAnswers', () => {
  it('shows the customer’s answers', async () => {
    const api = fakeApi({
      '/api/customers/42/survey-responses': {
        customer_id: '42',
        responses: [
          {survey_id: 1, survey_title: 'NPS after delivery', customer_id: '42', group: 'break-up', nps: 3, why: 'Too slow', answers: [{question_id: 'reason', question: 'Reason?', choices: ['Price']}], submitted_at: '2026-11-20T10:00:00Z'},
        ],
      },
    });
    renderWithApp(<CustomerSurveyAnswers id="42" />, {api});
    expect(await screen.findByText('Too slow')).toBeInTheDocument();
    expect(screen.getByText('3/10')).toBeInTheDocument();
    expect(screen.getByText('Reason?: Price')).toBeInTheDocument();
  });

  it('says so when there are none, and asks nothing for a bad id', async () => {
    const api = fakeApi({'/api/customers/7/survey-responses': {customer_id: '7', responses: []}});
    renderWithApp(<CustomerSurveyAnswers id="7" />, {api});
    await waitFor(() => expect(screen.getByText('No survey answers from this customer.')).toBeInTheDocument());
    renderWithApp(<CustomerSurveyAnswers id="x" />, {api});
    expect(api.calls.filter((c) => c.path.includes('/customers/x'))).toHaveLength(0);
  });
});
