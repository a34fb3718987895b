import {BlockStack, Button, Card, InlineStack, Text} from '@shopify/polaris';
import {useState} from 'react';

import {useApi} from '../api/useApi';
import {toast} from '../appBridge';
import {useApp} from '../context';
import {saveBlob} from '../download';

// DataRequests lists the answers to customers' data requests that Shopify
// forwarded, for the merchant to hand over before they expire.
export function DataRequests() {
  const {api, fmt} = useApp();
  const state = useApi('exports', (api, signal) => api.GET('/exports', {signal}));
  const [busy, setBusy] = useState<string>();
  const exports = (state.data?.exports ?? []).filter((e) => e.request_id);

  async function download(id: string) {
    setBusy(id);
    try {
      const {blob, filename} = await api.download(`/api/exports/${encodeURIComponent(id)}`);
      saveBlob(blob, filename ?? `data-request-${id}.json`);
    } catch (e) {
      toast(`Download failed: ${e instanceof Error ? e.message : String(e)}`, {isError: true});
    } finally {
      setBusy(undefined);
    }
  }

  return (
    <Card>
      <BlockStack gap="300">
        {state.error ? (
          <Text as="p" tone="critical">
            The data requests could not be loaded.
          </Text>
        ) : !exports.length ? (
          <Text as="p" tone="subdued">
            {state.loading ? 'Loading…' : 'No data requests.'}
          </Text>
        ) : (
          exports.map((e) => (
            <InlineStack key={e.request_id} align="space-between" blockAlign="center" gap="200">
              <span data-export={e.request_id}>
                <Text as="span">
                  Request {e.request_id} · customer {e.customer_id} · received {fmt.dateTime(e.created_at)} · deleted{' '}
                  {fmt.dateTime(e.expires_at)}
                </Text>
              </span>
              <Button onClick={() => void download(e.request_id!)} loading={busy === e.request_id} disabled={!!busy}>
                Download
              </Button>
            </InlineStack>
          ))
        )}
      </BlockStack>
    </Card>
  );
}
