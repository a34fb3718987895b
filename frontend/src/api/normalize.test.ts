import {describe, expect, it} from 'vitest';

import {readBacktest, readIcp, readShop} from './normalize';

describe('readBacktest', () => {
  it('reads the contract shape', () => {
    const bt = readBacktest({horizon: 90, overall: {predicted_orders: 10, actual_orders: 9, mae: 0.5, correlation: 0.7}, groups: [{name: 'Lovers', predicted_orders: 3}]});
    expect(bt?.horizon).toEqual({value: 90, unit: 'days'});
    expect(bt?.overall).toMatchObject({predictedOrders: 10, actualOrders: 9, mae: 0.5, correlation: 0.7});
    expect(bt?.groups[0]).toMatchObject({label: 'Lovers', predictedOrders: 3});
  });

  it("reads the scoring's camelCase shape and names groups by slug", () => {
    const bt = readBacktest({
      holdoutMonths: 6,
      model: 'bgnbd',
      overall: {group: '', customers: 100, predictedOrders: 50.5, actualOrders: 48, ordersMae: 0.31, ordersCorrelation: 0.66},
      groups: [{group: 'potential-lovers', customers: 20, predictedOrders: 5}],
    });
    expect(bt?.horizon).toEqual({value: 6, unit: 'months'});
    expect(bt?.overall).toMatchObject({label: 'All customers', customers: 100, predictedOrders: 50.5, actualOrders: 48, mae: 0.31, correlation: 0.66});
    expect(bt?.groups[0].label).toBe('Potential Lovers');
    expect(bt?.model).toBe('bgnbd');
  });

  it('gives nothing for a missing backtest', () => {
    expect(readBacktest(null)).toBeUndefined();
    expect(readBacktest('skipped')).toBeUndefined();
  });
});

describe('readIcp', () => {
  it("reads the scoring's top-versus-rest profile", () => {
    const icp = readIcp({
      topGroups: ['soulmates', 'lovers'],
      top: {customers: 40, countries: [{key: 'GB', label: 'United Kingdom', customers: 30, share: 0.75, otherShare: 0.6}], weekdays: [0.1, 0.2, 0.1, 0.1, 0.2, 0.2, 0.1], hours: [0.5]},
      rest: {customers: 400, weekdays: [0.2, 0.1, 0.1, 0.1, 0.2, 0.2, 0.1]},
    });
    expect(icp?.topGroups).toEqual(['Soulmates', 'Lovers']);
    expect(icp?.topCustomers).toBe(40);
    expect(icp?.restCustomers).toBe(400);
    expect(icp?.lists).toEqual([{key: 'countries', title: 'Countries', item: 'Country', rows: [{label: 'United Kingdom', customers: 30, share: 0.75, otherShare: 0.6}]}]);
    expect(icp?.weekdays?.rest[0]).toBe(0.2);
    expect(icp?.hours?.rest).toEqual([]);
  });

  it('leaves other shapes to the free-form renderer', () => {
    expect(readIcp({countries: []})).toBeUndefined();
    expect(readIcp(undefined)).toBeUndefined();
  });
});

describe('readShop', () => {
  it('keeps the contract shape', () => {
    const s = readShop({shop: 'a', status: {sync: {phase: 'orders'}, scoring: {state: 'idle'}}});
    expect(s.status).toEqual({sync: {phase: 'orders'}, scoring: {state: 'idle'}});
  });

  it('keeps the deliveries the server counts beside the flat sync', () => {
    const s = readShop({shop: 'a', status: {phase: 'done', deliveries: {pending: 2, dead: 1, rejected: 0}, scoring: {state: 'none'}}});
    expect(s.status?.deliveries).toEqual({pending: 2, dead: 1, rejected: 0});
  });

  it('reads a flat status as the sync, with scoring beside it', () => {
    const s = readShop({shop: 'a', currency: 'GBP', status: {phase: 'done', percent: 100, rows_done: 5, finished_at: 'x', scoring: {state: 'none'}}});
    expect(s.currency).toBe('GBP');
    expect(s.status?.sync).toMatchObject({phase: 'done', percent: 100, rows_done: 5, finished_at: 'x'});
    expect(s.status?.scoring).toEqual({state: 'none'});
  });

  it('survives odd answers', () => {
    expect(readShop(null)).toEqual({});
    expect(readShop({shop: 'a'}).status).toBeUndefined();
    expect(readShop({status: {}}).status).toEqual({sync: undefined, scoring: undefined});
  });
});
