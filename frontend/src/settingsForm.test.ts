import {describe, expect, it} from 'vitest';

import {fromSettings, parseCacBySource, toSettings, validate} from './settingsForm';

describe('acquisition cost per source', () => {
  it.each([
    ['', {}],
    ['google = 25', {google: 25}],
    ['Google: 25.5\n\n facebook = 18 ', {google: 25.5, facebook: 18}],
  ])('parses %j', (text, want) => {
    expect(parseCacBySource(text)).toEqual({value: want});
  });

  it.each([['google'], ['= 25'], ['google = -3'], ['google = lots'], ['google = 20000000']])('refuses %j with the line number', (text) => {
    expect(parseCacBySource(`tiktok = 4\n${text}`).error).toMatch(/^Line 2:/);
  });

  it('round-trips through the form', () => {
    const original = {tag_prefix: 'cvo-', cac: 10, cac_by_source: {google: 25, bing: 3}, default_margin: 0.3, refund_dating: 'refund_date'};
    const form = fromSettings(original);
    expect(form.cacBySource).toBe('bing = 3\ngoogle = 25');
    expect(validate(form)).toEqual({});
    expect(toSettings(original, {...form, cacBySource: 'google = 30'}).cac_by_source).toEqual({google: 30});
  });
});

describe('margin', () => {
  it('must be above zero', () => {
    const form = fromSettings({tag_prefix: 'cvo-', default_margin: 0.3});
    expect(validate({...form, marginPercent: '0'}).marginPercent).toBeDefined();
    expect(validate({...form, marginPercent: '45'}).marginPercent).toBeUndefined();
  });
});

describe('prediction settings', () => {
  const original = {tag_prefix: 'cvo-', default_margin: 0.3, prediction: {window_days: 60, churn_risk_high: 0.05, churn_risk_medium: 0.2}};

  it('round-trips the window and thresholds as days and percentages', () => {
    const form = fromSettings(original);
    expect(form).toMatchObject({windowDays: '60', churnHighPercent: '5', churnMediumPercent: '20'});
    expect(validate(form)).toEqual({});
    expect(toSettings(original, {...form, churnHighPercent: '12.5', churnMediumPercent: '35'}).prediction).toEqual({
      window_days: 60,
      churn_risk_high: 0.125,
      churn_risk_medium: 0.35,
    });
  });

  it('defaults when the server sends none', () => {
    expect(fromSettings({tag_prefix: 'cvo-', default_margin: 0.3})).toMatchObject({windowDays: '90', churnHighPercent: '10', churnMediumPercent: '30'});
  });

  it.each([
    ['windowDays', '0'],
    ['windowDays', '4000'],
    ['windowDays', '7.5'],
    ['churnHighPercent', '0'],
    ['churnHighPercent', '100'],
    ['churnMediumPercent', ''],
  ])('refuses %s = %j beside the field', (field, value) => {
    const form = {...fromSettings(original), [field]: value};
    expect(validate(form)[field as keyof ReturnType<typeof validate>]).toBeDefined();
  });

  it('refuses a medium threshold below the high one', () => {
    const form = {...fromSettings(original), churnHighPercent: '40', churnMediumPercent: '30'};
    expect(validate(form).churnMediumPercent).toBe('Must be at least the high-risk threshold.');
  });
});
