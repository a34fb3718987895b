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
