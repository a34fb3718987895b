import {Banner, BlockStack, Card, Layout, Page, SkeletonBodyText, SkeletonDisplayText, SkeletonPage, Text} from '@shopify/polaris';
import type {ReactNode} from 'react';

import {ApiError} from '../api/client';
import type {ApiState} from '../api/useApi';

export type ViewState = 'loading' | 'error' | 'empty' | 'ready';

// PageFrame marks each page with its state so tests and the e2e harness can
// wait for content instead of sleeping.
export function PageFrame({name, state, children}: {name: string; state: ViewState; children: ReactNode}) {
  return (
    <div data-page={name} data-state={state} aria-busy={state === 'loading'}>
      {children}
    </div>
  );
}

export function LoadingPage({title}: {title: string}) {
  return (
    <SkeletonPage title={title}>
      <Layout>
        <Layout.Section>
          <Card>
            <BlockStack gap="400">
              <SkeletonDisplayText size="small" />
              <SkeletonBodyText lines={4} />
            </BlockStack>
          </Card>
        </Layout.Section>
      </Layout>
    </SkeletonPage>
  );
}

// retryable says whether asking again could help: not when the server
// refused the request itself (4xx other than a timeout or a rate limit).
export function retryable(error: Error): boolean {
  if (!(error instanceof ApiError)) return true;
  return !(error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429);
}

export function ErrorBanner({title, error, onRetry}: {title: string; error: Error; onRetry?: () => void}) {
  const requestId = error instanceof ApiError ? error.requestId : undefined;
  const retry = onRetry && retryable(error) ? {content: 'Try again', onAction: onRetry} : undefined;
  return (
    <Banner tone="critical" title={title} action={retry}>
      <p>{error.message}</p>
      {requestId ? (
        <Text as="p" tone="subdued" variant="bodySm">
          Reference: {requestId}
        </Text>
      ) : null}
    </Banner>
  );
}

export function EmptyCard({heading, children}: {heading: string; children?: ReactNode}) {
  return (
    <Card>
      <BlockStack gap="200">
        <Text as="h2" variant="headingMd">
          {heading}
        </Text>
        <Text as="p" tone="subdued">
          {children ?? 'Nothing to show yet. Figures appear after the first sync and scoring finish.'}
        </Text>
      </BlockStack>
    </Card>
  );
}

interface DataPageProps<T> {
  name: string;
  title: string;
  subtitle?: string;
  state: ApiState<T>;
  isEmpty?: (data: T) => boolean;
  emptyText?: ReactNode;
  primaryAction?: ReactNode;
  // backAction is the page title's back arrow (a detail screen's way back).
  backAction?: {content: string; onAction: () => void};
  // notice shows above the content in every state but loading (sync progress).
  notice?: ReactNode;
  children: (data: T) => ReactNode;
}

// DataPage is the shell every page shares: a skeleton while the first load
// runs, an error banner with a retry, an empty card, or the content.
export function DataPage<T>({name, title, subtitle, state, isEmpty, emptyText, primaryAction, backAction, notice, children}: DataPageProps<T>) {
  if (state.loading && state.data === undefined) {
    return (
      <PageFrame name={name} state="loading">
        <LoadingPage title={title} />
      </PageFrame>
    );
  }
  let view: ViewState = 'ready';
  let body: ReactNode;
  if (state.error instanceof ApiError && state.error.status === 404) {
    // The API answers 404 until the shop's first scoring: that is "no data
    // yet", not a failure.
    view = 'empty';
    body = <EmptyCard heading={`No ${title.toLowerCase()} yet`}>{emptyText ?? state.error.message}</EmptyCard>;
  } else if (state.error) {
    view = 'error';
    body = <ErrorBanner title={`Couldn't load ${title.toLowerCase()}`} error={state.error} onRetry={state.reload} />;
  } else if (state.data === undefined || (isEmpty && isEmpty(state.data))) {
    view = 'empty';
    body = <EmptyCard heading={`No ${title.toLowerCase()} yet`}>{emptyText}</EmptyCard>;
  } else {
    body = children(state.data);
  }
  return (
    <PageFrame name={name} state={view}>
      <Page title={title} subtitle={subtitle} primaryAction={primaryAction} backAction={backAction}>
        {notice ? (
          <BlockStack gap="400">
            {notice}
            {body}
          </BlockStack>
        ) : (
          body
        )}
      </Page>
    </PageFrame>
  );
}
