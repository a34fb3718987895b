import '@testing-library/jest-dom/vitest';

import {cleanup, configure} from '@testing-library/react';
import {afterEach} from 'vitest';

// findBy and waitFor wait for what a busy machine renders slowly; their
// one-second default fails on a loaded machine, not on a broken page.
configure({asyncUtilTimeout: 30_000});

// jsdom lacks the layout APIs Polaris reads; give it inert ones.
if (!window.matchMedia) {
  Object.defineProperty(window, 'matchMedia', {
    writable: true,
    value: (query: string) => ({
      matches: false,
      media: query,
      onchange: null,
      addListener: () => {},
      removeListener: () => {},
      addEventListener: () => {},
      removeEventListener: () => {},
      dispatchEvent: () => false,
    }),
  });
}

class InertObserver {
  observe() {}
  unobserve() {}
  disconnect() {}
  takeRecords() {
    return [];
  }
}

const g = globalThis as Record<string, unknown>;
g.ResizeObserver ??= InertObserver;
g.IntersectionObserver ??= InertObserver;
window.scrollTo = () => {};

afterEach(() => {
  cleanup();
  delete window.shopify;
  window.history.replaceState(null, '', '/');
});
