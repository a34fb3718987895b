import {describe, expect, it, vi} from 'vitest';

import {ApiError, RETRY_HEADER, createApiClient, filenameOf} from './client';

function tokens() {
  let n = 0;
  return vi.fn(async () => `token-${++n}`);
}

function reply(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(typeof body === 'string' ? body : JSON.stringify(body), {status, headers});
}

describe('api client', () => {
  it('sends a fresh session token as a bearer token on every call, without cookies', async () => {
    const getToken = tokens();
    const fetchMock = vi.fn(async (_url: RequestInfo | URL, _init?: RequestInit) => reply(200, {ok: true}));
    const api = createApiClient({getToken, fetch: fetchMock as typeof fetch});

    await api.get('/api/shop');
    await api.get('/api/overview');

    expect(fetchMock).toHaveBeenCalledTimes(2);
    const [url1, init1] = fetchMock.mock.calls[0];
    expect(url1).toBe('/api/shop');
    expect(new Headers(init1?.headers).get('Authorization')).toBe('Bearer token-1');
    expect(init1?.credentials).toBe('omit');
    expect(new Headers(fetchMock.mock.calls[1][1]?.headers).get('Authorization')).toBe('Bearer token-2');
  });

  it('retries once with a new token when the server marks the 401 retryable', async () => {
    const getToken = tokens();
    const fetchMock = vi
      .fn()
      .mockResolvedValueOnce(reply(401, {error: 'Invalid session token.'}, {[RETRY_HEADER]: '1'}))
      .mockResolvedValueOnce(reply(200, {shop: 'a.myshopify.com'}));
    const api = createApiClient({getToken, fetch: fetchMock as typeof fetch});

    await expect(api.get('/api/shop')).resolves.toEqual({shop: 'a.myshopify.com'});
    expect(fetchMock).toHaveBeenCalledTimes(2);
    expect(new Headers(fetchMock.mock.calls[1][1].headers).get('Authorization')).toBe('Bearer token-2');
  });

  it('retries only once', async () => {
    const fetchMock = vi.fn(async () => reply(401, {error: 'Invalid session token.'}, {[RETRY_HEADER]: '1'}));
    const api = createApiClient({getToken: tokens(), fetch: fetchMock as typeof fetch});

    const err = await api.get('/api/shop').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(401);
    expect((err as ApiError).message).toBe('Invalid session token.');
    expect(fetchMock).toHaveBeenCalledTimes(2);
  });

  it('does not retry a 401 without the retry header', async () => {
    const fetchMock = vi.fn(async () => reply(401, {error: 'Missing session token.'}));
    const api = createApiClient({getToken: tokens(), fetch: fetchMock as typeof fetch});
    await expect(api.get('/api/shop')).rejects.toMatchObject({status: 401});
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it('resends the body on the retry of a write', async () => {
    const fetchMock = vi
      .fn()
      .mockResolvedValueOnce(reply(401, '', {[RETRY_HEADER]: '1'}))
      .mockResolvedValueOnce(reply(200, {tag_prefix: 'x-'}));
    const api = createApiClient({getToken: tokens(), fetch: fetchMock as typeof fetch});
    await api.send('PUT', '/api/settings', {tag_prefix: 'x-'});
    for (const [, init] of fetchMock.mock.calls) {
      expect(init.method).toBe('PUT');
      expect(init.body).toBe('{"tag_prefix":"x-"}');
      expect(new Headers(init.headers).get('Content-Type')).toBe('application/json');
    }
  });

  it('turns error answers into ApiErrors with the server message and request id', async () => {
    const api = createApiClient({
      getToken: tokens(),
      fetch: (async () => reply(500, {error: 'Internal error.', request_id: 'req-7'})) as typeof fetch,
    });
    await expect(api.get('/api/overview')).rejects.toMatchObject({status: 500, message: 'Internal error.', requestId: 'req-7'});

    const html = createApiClient({getToken: tokens(), fetch: (async () => reply(502, '<html>bad gateway</html>')) as typeof fetch});
    await expect(html.get('/api/overview')).rejects.toMatchObject({status: 502, message: expect.stringContaining('server')});
  });

  it('fails when App Bridge cannot give a token, without calling the server', async () => {
    const fetchMock = vi.fn();
    const api = createApiClient({getToken: async () => Promise.reject(new Error('no bridge')), fetch: fetchMock as typeof fetch});
    await expect(api.get('/api/shop')).rejects.toThrow('no bridge');
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it('downloads a file with the token and its filename', async () => {
    const fetchMock = vi.fn(async () =>
      reply(200, 'id,name\n1,A\n', {'Content-Type': 'text/csv', 'Content-Disposition': 'attachment; filename="lovers.csv"'}),
    );
    const api = createApiClient({getToken: tokens(), fetch: fetchMock as typeof fetch});
    const {blob, filename} = await api.download('/api/segments/lovers/export.csv');
    expect(filename).toBe('lovers.csv');
    expect(await blob.text()).toBe('id,name\n1,A\n');
    const init = (fetchMock.mock.calls[0] as unknown[])[1] as RequestInit;
    expect(new Headers(init.headers).get('Authorization')).toBe('Bearer token-1');
  });
});

describe('the contract client (api.typed)', () => {
  it('calls the route under /api with its query, the token and the retry', async () => {
    const fetchMock = vi
      .fn()
      .mockResolvedValueOnce(reply(401, '', {[RETRY_HEADER]: '1'}))
      .mockResolvedValueOnce(reply(200, {customers: [], total: 0, page: 2, per_page: 25}, {'Content-Type': 'application/json'}));
    const api = createApiClient({getToken: tokens(), fetch: fetchMock as typeof fetch});
    const {data} = await api.typed.GET('/customers', {params: {query: {q: 'ann lee', group: 'lovers', page: 2, per_page: 25}}});
    expect(data?.page).toBe(2);
    expect(fetchMock).toHaveBeenCalledTimes(2);
    const [url, init] = fetchMock.mock.calls[1];
    expect(url).toBe('/api/customers?q=ann%20lee&group=lovers&page=2&per_page=25');
    expect(new Headers(init.headers).get('Authorization')).toBe('Bearer token-2');
  });

  it("sends a write's body as JSON", async () => {
    const fetchMock = vi.fn(async (_url: RequestInfo | URL, _init?: RequestInit) => reply(200, {tag_prefix: 'x-'}, {'Content-Type': 'application/json'}));
    const api = createApiClient({getToken: tokens(), fetch: fetchMock as typeof fetch});
    await api.typed.PUT('/settings', {body: {tag_prefix: 'x-', refund_dating: 'order_date'}});
    const init = fetchMock.mock.calls[0][1];
    expect(init?.method).toBe('PUT');
    expect(JSON.parse(init?.body as string)).toEqual({tag_prefix: 'x-', refund_dating: 'order_date'});
    expect(new Headers(init?.headers).get('Content-Type')).toBe('application/json');
  });

  it("throws the server's error as an ApiError", async () => {
    const api = createApiClient({
      getToken: tokens(),
      fetch: (async () => reply(400, {error: 'per_page must be a whole number from 1 to 250.', request_id: 'r1'})) as typeof fetch,
    });
    await expect(api.typed.GET('/customers', {params: {query: {per_page: 500}}})).rejects.toMatchObject({
      status: 400,
      message: 'per_page must be a whole number from 1 to 250.',
    });
  });
});

describe('filenameOf', () => {
  it.each([
    [null, undefined],
    ['attachment', undefined],
    ['attachment; filename="a b.csv"', 'a b.csv'],
    ['attachment; filename=plain.csv', 'plain.csv'],
    ["attachment; filename*=UTF-8''caf%C3%A9.csv; filename=\"cafe.csv\"", 'café.csv'],
  ])('%s', (header, want) => {
    expect(filenameOf(header)).toBe(want);
  });
});
