import {Text} from '@shopify/polaris';

import type {SurveyAnswer} from '../api/types';

// npsTone colours a 0–10 score by its NPS bucket: promoters (9–10),
// passives (7–8) and detractors.
export function npsTone(nps: number): 'success' | 'attention' | 'critical' {
  return nps >= 9 ? 'success' : nps >= 7 ? 'attention' : 'critical';
}

// SurveyAnswerText is what a customer wrote: the reason for their score,
// then every other answer, question by question.
export function SurveyAnswerText({answer}: {answer: SurveyAnswer}) {
  return (
    <>
      {answer.why ? <Text as="p">{answer.why}</Text> : null}
      {(answer.answers ?? []).map((x) => (
        <Text as="p" tone="subdued" key={x.question_id}>
          {x.question}: {x.text ?? (x.choices ?? []).join(', ')}
        </Text>
      ))}
    </>
  );
}
