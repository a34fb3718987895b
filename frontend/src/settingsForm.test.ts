import {describe, expect, it} from 'vitest';

import {fieldOfServerError, fromSettings, marginHint, parseCacBySource, toSettings, validate} from './settingsForm';

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
    ['churnHighPercent', '1e1'],
  ])('refuses %s = %j beside the field', (field, value) => {
    const form = {...fromSettings(original), [field]: value};
    expect(validate(form)[field as keyof ReturnType<typeof validate>]).toBeDefined();
  });

  it('refuses a medium threshold below the high one', () => {
    const form = {...fromSettings(original), churnHighPercent: '40', churnMediumPercent: '30'};
    expect(validate(form).churnMediumPercent).toBe('Must be at least the high-risk threshold.');
  });
});

describe('numbers in the shop locale', () => {
  it('reads and writes the margin and costs with a decimal comma', () => {
    const original = {tag_prefix: 'cvo-', cac: 12.5, cac_by_source: {google: 2.5}, default_margin: 0.455, refund_dating: 'refund_date'};
    const form = fromSettings(original, 'de-DE');
    expect(form.marginPercent).toBe('45,5');
    expect(form.cac).toBe('12,5');
    expect(form.cacBySource).toBe('google = 2,5');
    expect(validate(form, 'de-DE')).toEqual({});
    const out = toSettings(original, {...form, marginPercent: '37,25', cac: '1.200,5'}, 'de-DE');
    expect(out.default_margin).toBe(0.3725);
    expect(out.cac).toBe(1200.5);
  });

  it('refuses exponent notation with a message instead of storing 1000', () => {
    const form = fromSettings({tag_prefix: 'cvo-', default_margin: 0.3});
    expect(validate({...form, cac: '1e3'}).cac).toMatch(/exponent notation/);
    expect(validate({...form, marginPercent: '4e1'}).marginPercent).toMatch(/exponent notation/);
    expect(parseCacBySource('google = 1e3').error).toMatch(/^Line 1: .*exponent notation/);
  });

  it('speaks of the margin in the unit the field shows', () => {
    const form = fromSettings({tag_prefix: 'cvo-', default_margin: 0.3});
    expect(validate({...form, marginPercent: '150'}).marginPercent).toBe('Enter a margin above 0 and at most 100%.');
    expect(marginHint({...form, marginPercent: '0.45'})).toBe('That is 0.45% of revenue. For 45%, enter 45.');
    expect(marginHint({...form, marginPercent: '45'})).toBeUndefined();
    // The API's message is about a fraction; the form shows percent.
    expect(fieldOfServerError('default_margin', 'Default margin must be above 0 and at most 1 (e.g. 0.45 for 45%).')).toEqual({
      field: 'marginPercent',
      message: 'Enter a margin above 0 and at most 100%.',
    });
    expect(fieldOfServerError('cac', 'Acquisition cost must be between 0 and 10,000,000.').field).toBe('cac');
    expect(fieldOfServerError(undefined, 'x').field).toBeUndefined();
    expect(fieldOfServerError('prediction.window_days', 'Prediction window must be 1 to 3660 days.').field).toBe('windowDays');
  });
});
