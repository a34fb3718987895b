import {Button, Page} from '@shopify/polaris';

import {EmptyCard, PageFrame} from '../components/PageState';
import {navigate} from '../router';

export function NotFoundPage() {
  return (
    <PageFrame name="not-found" state="empty">
      <Page title="Page not found">
        <EmptyCard heading="There is no page here">
          <Button variant="plain" onClick={() => navigate('/')}>
            Go to the overview
          </Button>
        </EmptyCard>
      </Page>
    </PageFrame>
  );
}
