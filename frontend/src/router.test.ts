import {act, renderHook} from '@testing-library/react';
import {describe, expect, it} from 'vitest';

import {hrefWithQuery, navigate, normalizePath, routeIndex, usePath} from './router';

describe('router', () => {
  it('keeps Shopify query parameters when navigating', () => {
    window.history.replaceState(null, '', '/?shop=a.myshopify.com&host=abc&locale=de');
    const {result} = renderHook(() => usePath());
    expect(result.current).toBe('/');
    act(() => navigate('/segments'));
    expect(result.current).toBe('/segments');
    expect(window.location.search).toBe('?shop=a.myshopify.com&host=abc&locale=de');
    expect(hrefWithQuery('/cohorts/')).toBe('/cohorts?shop=a.myshopify.com&host=abc&locale=de');
  });

  it('follows the browser history (back button, App Bridge navigation)', () => {
    window.history.replaceState(null, '', '/settings');
    const {result} = renderHook(() => usePath());
    act(() => {
      window.history.pushState(null, '', '/insights');
      window.dispatchEvent(new PopStateEvent('popstate'));
    });
    expect(result.current).toBe('/insights');
  });

  it('normalizes paths and finds routes', () => {
    expect(normalizePath('/segments/')).toBe('/segments');
    expect(normalizePath('')).toBe('/');
    expect(routeIndex('/')).toBe(0);
    expect(routeIndex('/settings/')).toBe(7);
    expect(routeIndex('/nope')).toBe(-1);
  });
});
