import {readFileSync} from 'node:fs';
import {resolve} from 'node:path';

import {afterEach, describe, expect, it, vi} from 'vitest';

// The demo's App Bridge stand-in lives with the Go server that serves it;
// this runs it the way a browser would, as the script behind a tag with
// data-simulator-origin.
// Vitest runs from frontend/.
const source = readFileSync(resolve(process.cwd(), '../internal/web/appbridge_standin.js'), 'utf8');

function jwt(expSeconds: number): string {
  const b64 = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `${b64({alg: 'HS256'})}.${b64({exp: expSeconds, dest: 'https://a.myshopify.com'})}.sig`;
}

function load(search: string, origin = 'http://127.0.0.1:9100') {
  window.history.replaceState(null, '', `/${search}`);
  document.head.innerHTML = '<meta name="shopify-api-key" content="cvo-demo-client">';
  const script = document.createElement('script');
  script.setAttribute('data-simulator-origin', origin);
  Object.defineProperty(document, 'currentScript', {value: script, configurable: true});
  try {
    new Function(source)();
  } finally {
    Object.defineProperty(document, 'currentScript', {value: null, configurable: true});
  }
  return window.shopify!;
}

afterEach(() => {
  vi.unstubAllGlobals();
  document.head.innerHTML = '';
});

describe('App Bridge stand-in', () => {
  it("exposes the config App Bridge derives from the page's URL and meta tag", () => {
    const bridge = load('?shop=a.myshopify.com&host=aG9zdA&locale=de-DE');
    expect(bridge.config).toMatchObject({apiKey: 'cvo-demo-client', shop: 'a.myshopify.com', host: 'aG9zdA', locale: 'de-DE'});
  });

  it('gets session tokens from the simulator for the shop in the URL and reuses a live one', async () => {
    const token = jwt(Math.floor(Date.now() / 1000) + 60);
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({token}), {status: 200}));
    vi.stubGlobal('fetch', fetchMock);
    const bridge = load('?shop=a.myshopify.com');

    const [t1, t2] = await Promise.all([bridge.idToken(), bridge.idToken()]);
    expect(t1).toBe(token);
    expect(t2).toBe(token);
    await bridge.idToken();
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(fetchMock).toHaveBeenCalledWith('http://127.0.0.1:9100/simulator/session-token?shop=a.myshopify.com', {
      cache: 'no-store',
      credentials: 'omit',
    });
  });

  it('fetches a new token when the cached one is about to expire', async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({token: jwt(Math.floor(Date.now() / 1000) + 5)})));
    vi.stubGlobal('fetch', fetchMock);
    const bridge = load('?shop=a.myshopify.com');
    await bridge.idToken();
    await bridge.idToken();
    expect(fetchMock).toHaveBeenCalledTimes(2);
  });

  it('rejects without a shop or when the simulator refuses', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('unknown shop', {status: 404})));
    await expect(load('').idToken()).rejects.toThrow(/no \?shop=/);
    await expect(load('?shop=nope.myshopify.com').idToken()).rejects.toThrow(/HTTP 404/);
  });

  it('shows toasts in a live region', () => {
    vi.useFakeTimers();
    try {
      const bridge = load('?shop=a.myshopify.com');
      bridge.toast!.show('Settings saved');
      bridge.toast!.show('Export failed', {isError: true, duration: 1000});
      const region = document.querySelector('[data-app-bridge-standin="toast"]')!;
      expect(region).toHaveAttribute('aria-live', 'polite');
      expect(region).toHaveTextContent('Settings saved');
      vi.advanceTimersByTime(1500);
      expect(region).not.toHaveTextContent('Export failed');
      vi.advanceTimersByTime(5000);
      expect(region).toBeEmptyDOMElement();
    } finally {
      vi.useRealTimers();
    }
  });
});
