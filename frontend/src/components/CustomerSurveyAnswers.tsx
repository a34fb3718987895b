import {Badge, BlockStack, Card, InlineStack, Text} from '@shopify/polaris';

import type {SurveyAnswer} from '../api/types';
import {useApi} from '../api/useApi';
import {useApp} from '../context';
import {npsTone, SurveyAnswerText} from './SurveyAnswerText';

// CustomerSurveyAnswers shows what one customer answered to the shop's
// surveys, newest first (GET /api/customers/{id}/survey-responses).
export function CustomerSurveyAnswers({id}: {id: string}) {
  const {fmt} = useApp();
  const numeric = Number(id);
  const valid = Number.isSafeInteger(numeric) && numeric > 0;
  const state = useApi(valid ? `customer-survey-${id}` : null, (api, signal) =>
    api.GET('/customers/{id}/survey-responses', {params: {path: {id: numeric}}, signal}),
  );
  const answers = (state.data?.responses ?? []) as SurveyAnswer[];
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          What they said
        </Text>
        {answers.length ? (
          answers.map((a) => (
            <div key={a.survey_id} data-customer-answer>
              <BlockStack gap="100">
                <InlineStack gap="200" blockAlign="center">
                  <Text as="span" fontWeight="semibold">
                    {a.survey_title}
                  </Text>
                  {a.nps === undefined || a.nps === null ? null : (
                    <Badge tone={npsTone(a.nps)}>{`${a.nps}/10`}</Badge>
                  )}
                  {a.ces === undefined || a.ces === null ? null : <Badge>{`effort ${a.ces}/7`}</Badge>}
                  <Text as="span" tone="subdued">
                    {fmt.dateTime(a.submitted_at)}
                  </Text>
                </InlineStack>
                <SurveyAnswerText answer={a} />
              </BlockStack>
            </div>
          ))
        ) : (
          <Text as="p" tone="subdued">
            {state.loading ? 'Loading…' : 'No survey answers from this customer.'}
          </Text>
        )}
      </BlockStack>
    </Card>
  );
}
