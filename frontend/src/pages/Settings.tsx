import {BlockStack, Button, Card, Checkbox, ChoiceList, FormLayout, InlineStack, Layout, Select, Text, TextField} from '@shopify/polaris';
import {useEffect, useMemo, useState} from 'react';

import {ApiError} from '../api/client';
import type {Settings} from '../api/types';
import {useApi} from '../api/useApi';
import {toast} from '../appBridge';
import {DataRequests} from '../components/DataRequests';
import {DataPage} from '../components/PageState';
import {useApp} from '../context';
import {KNOWN_GROUPS} from '../groups';
import type {FormErrors, SettingsForm} from '../settingsForm';
import {fieldOfServerError, fromSettings, marginHint, settingsInput, toSettings, validate} from '../settingsForm';

export function SettingsPage() {
  const state = useApi('settings', (api, signal) => api.GET('/settings', {signal}));
  return (
    <DataPage name="settings" title="Settings" state={state}>
      {(d) => <SettingsEditor original={d} onSaved={state.reload} />}
    </DataPage>
  );
}

const HOURS = Array.from({length: 24}, (_, h) => ({label: `${String(h).padStart(2, '0')}:00`, value: String(h)}));

function SettingsEditor({original, onSaved}: {original: Settings; onSaved: () => void}) {
  const {api, fmt, shop, reloadShop} = useApp();
  const initial = useMemo(() => fromSettings(original, fmt.locale), [original, fmt.locale]);
  const [form, setForm] = useState<SettingsForm>(initial);
  const [saving, setSaving] = useState(false);
  // A refusal by the server shows beside its field (serverErrors) or, when
  // it names none, beside the Save button (saveError): never out of sight.
  const [saveError, setSaveError] = useState<Error>();
  const [serverErrors, setServerErrors] = useState<FormErrors>({});
  const [running, setRunning] = useState<string>();
  useEffect(() => setForm(initial), [initial]);

  const segments = useApi('segments', (api, signal) => api.GET('/segments', {signal}));
  const groups = segments.data?.groups?.length
    ? segments.data.groups.map((g) => ({slug: g.slug ?? '', name: g.name || g.slug || ''}))
    : KNOWN_GROUPS;

  const clientErrors = validate(form, fmt.locale);
  const errors: FormErrors = {...serverErrors, ...clientErrors};
  const dirty = JSON.stringify(form) !== JSON.stringify(initial);
  const set = <K extends keyof SettingsForm>(k: K) => (v: SettingsForm[K]) => {
    setForm((f) => ({...f, [k]: v}));
    setServerErrors((e) => (k in e ? {...e, [k]: undefined} : e));
  };

  const blocking = Object.values(errors).some(Boolean);

  async function save() {
    if (blocking) return;
    setSaving(true);
    setSaveError(undefined);
    setServerErrors({});
    try {
      await api.typed.PUT('/settings', {body: settingsInput(toSettings(original, form, fmt.locale))});
      toast('Settings saved');
      onSaved();
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      const placed = err instanceof ApiError ? fieldOfServerError(err.field, err.message) : {message: err.message};
      if (placed.field) setServerErrors({[placed.field]: placed.message});
      else setSaveError(err);
    } finally {
      setSaving(false);
    }
  }

  async function act(action: 'rescore' | 'resync', label: string) {
    setRunning(action);
    try {
      const {data: res} = await api.typed.POST(action === 'rescore' ? '/actions/rescore' : '/actions/resync');
      toast(`${label}: ${res?.state || 'started'}`);
      void reloadShop();
    } catch (e) {
      toast(`${label} failed: ${e instanceof Error ? e.message : String(e)}`, {isError: true});
    } finally {
      setRunning(undefined);
    }
  }

  const selectedGroups = form.groupsEnabled ?? groups.map((g) => g.slug);
  return (
    <Layout>
      <Layout.AnnotatedSection id="tags" title="Customer tags" description="What the app writes to each customer in Shopify.">
        <Card>
          <FormLayout>
            <TextField
              label="Tag prefix"
              value={form.tagPrefix}
              onChange={set('tagPrefix')}
              autoComplete="off"
              error={errors.tagPrefix}
              helpText={`Tags look like ${form.tagPrefix || 'cvo-'}soulmates.`}
            />
            <ChoiceList
              title="Groups to tag"
              allowMultiple
              choices={groups.map((g) => ({label: g.name, value: g.slug}))}
              selected={selectedGroups}
              onChange={(v) => set('groupsEnabled')(v.length === groups.length && form.groupsEnabled === null ? null : v)}
            />
            <Checkbox label="Tag the predicted value tier" checked={form.predictedValueTier} onChange={set('predictedValueTier')} />
            <Checkbox label="Tag churn risk" checked={form.churnRisk} onChange={set('churnRisk')} />
            <Checkbox label="Write scores to customer metafields" checked={form.metafields} onChange={set('metafields')} />
            <Checkbox
              label="Share survey links with email apps"
              checked={form.shareSurveyLinks}
              onChange={set('shareSurveyLinks')}
              helpText="Survey links are app-owned: you and CVO can read them, Klaviyo, Mailchimp and Shopify Email cannot. When on, each link is also written to the metafield cvo_survey.{survey key}, which every app can read, and also change."
            />
            {form.segments !== undefined ? (
              <Checkbox label="Keep a Shopify customer segment per group" checked={form.segments} onChange={set('segments')} />
            ) : null}
          </FormLayout>
        </Card>
      </Layout.AnnotatedSection>
      <Layout.AnnotatedSection id="economics" title="Economics" description="Used for CLV : CAC and margin-based figures.">
        <Card>
          <FormLayout>
            <TextField
              label="Customer acquisition cost (CAC)"
              type="text"
              inputMode="decimal"
              value={form.cac}
              onChange={set('cac')}
              autoComplete="off"
              prefix={fmt.currency}
              error={errors.cac}
              helpText="Average cost to win one new customer. Leave empty if unknown."
            />
            <TextField
              label="Acquisition cost per source"
              multiline={3}
              value={form.cacBySource}
              onChange={set('cacBySource')}
              autoComplete="off"
              error={errors.cacBySource}
              placeholder={'google = 25\nfacebook = 18'}
              helpText="Optional, one source per line (the first order's UTM source or sales channel). Overrides the average for those customers."
            />
            <TextField
              label="Default margin"
              type="text"
              inputMode="decimal"
              value={form.marginPercent}
              onChange={set('marginPercent')}
              autoComplete="off"
              suffix="%"
              error={errors.marginPercent}
              helpText={marginHint(form, fmt.locale) ?? 'Gross margin, in percent of revenue, for products without a known cost.'}
            />
            <Select
              label="Date refunds by"
              options={[
                {label: 'The refund date', value: 'refund_date'},
                {label: 'The original order date', value: 'order_date'},
              ]}
              value={form.refundDating}
              onChange={set('refundDating')}
            />
          </FormLayout>
        </Card>
      </Layout.AnnotatedSection>
      <Layout.AnnotatedSection
        id="prediction"
        title="Predictions"
        description="The chance to order soon, the headline prediction, and the churn risk cut from it."
      >
        <Card>
          <FormLayout>
            <TextField
              label="Chance to order within"
              type="number"
              min={1}
              max={3660}
              value={form.windowDays}
              onChange={set('windowDays')}
              autoComplete="off"
              suffix="days"
              error={errors.windowDays}
              helpText="Each customer's chance of ordering at least once in this many days after a scoring."
            />
            <FormLayout.Group>
              <TextField
                label="High churn risk below"
                type="number"
                min={0}
                max={100}
                value={form.churnHighPercent}
                onChange={set('churnHighPercent')}
                autoComplete="off"
                suffix="%"
                error={errors.churnHighPercent}
                helpText="Customers below this chance are high risk (and get the churn-risk tag when it is on)."
              />
              <TextField
                label="Medium churn risk below"
                type="number"
                min={0}
                max={100}
                value={form.churnMediumPercent}
                onChange={set('churnMediumPercent')}
                autoComplete="off"
                suffix="%"
                error={errors.churnMediumPercent}
                helpText="Customers from here up are low risk."
              />
            </FormLayout.Group>
          </FormLayout>
        </Card>
      </Layout.AnnotatedSection>
      <Layout.AnnotatedSection id="schedule" title="Schedule" description={`Nightly rescoring, in the shop's time zone${shop.timezone ? ` (${shop.timezone})` : ''}.`}>
        <Card>
          <Select label="Rescore every night at" options={HOURS} value={form.nightlyHour} onChange={set('nightlyHour')} error={errors.nightlyHour} />
        </Card>
      </Layout.AnnotatedSection>
      <Layout.Section>
        <InlineStack align="end" blockAlign="center" gap="300">
          {blocking ? (
            <Text as="p" tone="critical">
              Correct the fields marked above to save.
            </Text>
          ) : null}
          {saveError ? (
            <div role="alert">
              <Text as="p" tone="critical">
                Couldn&apos;t save: {saveError.message}
              </Text>
            </div>
          ) : null}
          <Button variant="primary" onClick={() => void save()} loading={saving} disabled={!dirty || blocking}>
            Save
          </Button>
        </InlineStack>
      </Layout.Section>
      <Layout.AnnotatedSection id="actions" title="Run now" description="Start work without waiting for the nightly run.">
        <Card>
          <BlockStack gap="300">
            <Text as="p" tone="subdued">
              Rescoring recomputes groups and predictions from the stored history. A full resync reads the whole order history
              from Shopify again.
            </Text>
            <InlineStack gap="200">
              <Button onClick={() => void act('rescore', 'Rescore')} loading={running === 'rescore'} disabled={!!running}>
                Rescore now
              </Button>
              <Button onClick={() => void act('resync', 'Resync')} loading={running === 'resync'} disabled={!!running}>
                Resync history
              </Button>
            </InlineStack>
          </BlockStack>
        </Card>
      </Layout.AnnotatedSection>
      <Layout.AnnotatedSection id="data-requests" title="Customer data requests" description="What the app holds on customers who asked, kept for you to hand over until it is deleted.">
        <DataRequests />
      </Layout.AnnotatedSection>
    </Layout>
  );
}
