// The API client: every call carries a fresh App Bridge session token as a
// bearer token (no cookies, no localStorage), and a 401 that Shopify marks as
// retryable is retried once with a new token. The pages call the API
// through `typed`, openapi-fetch over the types generated from the contract
// (internal/web/openapi.yaml), so a path, parameter or field the contract
// does not have is a build error.

import createClient, {type Client} from 'openapi-fetch';

import type {paths} from './schema';

export const RETRY_HEADER = 'X-Shopify-Retry-Invalid-Session-Request';

export class ApiError extends Error {
  readonly status: number;
  readonly requestId?: string;
  // field names the input a refusal is about, as the API names it.
  readonly field?: string;

  constructor(message: string, status: number, requestId?: string, field?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.requestId = requestId;
    this.field = field;
  }
}

export interface ClientOptions {
  getToken: () => Promise<string>;
  fetch?: typeof fetch;
  baseUrl?: string;
}

export interface Download {
  blob: Blob;
  filename?: string;
}

export type TypedClient = Client<paths>;

export interface ApiClient {
  // typed is the contract's client; its answers are the contract's types.
  typed: TypedClient;
  request(path: string, init?: RequestInit): Promise<Response>;
  get<T>(path: string, signal?: AbortSignal): Promise<T>;
  send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T>;
  download(path: string): Promise<Download>;
}

export function createApiClient(opts: ClientOptions): ApiClient {
  const doFetch = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const base = opts.baseUrl ?? '';

  async function attempt(path: string, init: RequestInit): Promise<Response> {
    const token = await opts.getToken();
    const headers = new Headers(init.headers);
    headers.set('Authorization', `Bearer ${token}`);
    if (!headers.has('Accept')) headers.set('Accept', 'application/json');
    return doFetch(base + path, {...init, headers, credentials: 'omit'});
  }

  async function request(path: string, init: RequestInit = {}): Promise<Response> {
    let res = await attempt(path, init);
    if (res.status === 401 && res.headers.get(RETRY_HEADER)) {
      // The token expired or was refused in flight: App Bridge hands out a
      // new one, and one retry is what Shopify's own fetch wrapper does.
      res = await attempt(path, init);
    }
    if (!res.ok) throw await errorOf(res);
    return res;
  }

  return {
    typed: typedClient(request),
    request,
    async get<T>(path: string, signal?: AbortSignal): Promise<T> {
      const res = await request(path, {signal});
      return (await jsonBody(res)) as T;
    },
    async send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
      const init: RequestInit = {method};
      if (body !== undefined) {
        init.body = JSON.stringify(body);
        init.headers = {'Content-Type': 'application/json'};
      }
      const res = await request(path, init);
      return (await jsonBody(res)) as T;
    },
    async download(path: string): Promise<Download> {
      const res = await request(path, {headers: {Accept: 'text/csv, */*'}});
      return {blob: await res.blob(), filename: filenameOf(res.headers.get('Content-Disposition'))};
    },
  };
}

// typedClient runs openapi-fetch over a transport that takes a path under
// the page's origin; errors are the transport's (ApiError), thrown before
// openapi-fetch reads the answer.
export function typedClient(request: (path: string, init?: RequestInit) => Promise<Response>): TypedClient {
  // openapi-fetch builds a Request, which needs an absolute URL; the
  // transport gets the path back.
  const origin = globalThis.location?.origin && globalThis.location.origin !== 'null' ? globalThis.location.origin : 'http://localhost';
  return createClient<paths>({
    baseUrl: `${origin}/api`,
    fetch: async (req: Request) => {
      const url = new URL(req.url);
      const body = req.method === 'GET' || req.method === 'HEAD' ? '' : await req.text();
      return request(url.pathname + url.search, {method: req.method, headers: req.headers, body: body || undefined, signal: req.signal});
    },
  });
}

async function jsonBody(res: Response): Promise<unknown> {
  if (res.status === 204) return {};
  const text = await res.text();
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError('The server sent an answer the page cannot read.', res.status);
  }
}

async function errorOf(res: Response): Promise<ApiError> {
  let message = '';
  let requestId: string | undefined = res.headers.get('X-Request-Id') ?? undefined;
  let field: string | undefined;
  try {
    const body = JSON.parse(await res.text()) as {error?: unknown; message?: unknown; request_id?: unknown; field?: unknown};
    if (typeof body.error === 'string') message = body.error;
    else if (typeof body.message === 'string') message = body.message;
    if (typeof body.request_id === 'string') requestId = body.request_id;
    if (typeof body.field === 'string' && body.field) field = body.field;
  } catch {
    // Not JSON: fall back to the status text below.
  }
  if (!message) message = defaultMessage(res.status);
  return new ApiError(message, res.status, requestId, field);
}

function defaultMessage(status: number): string {
  if (status === 401) return 'Your session is not valid. Reload the app from your Shopify admin.';
  if (status === 404) return 'This data is not available yet.';
  if (status >= 500) return 'The server had a problem answering. Try again in a moment.';
  return `The request failed (HTTP ${status}).`;
}

// filenameOf reads the plain filename= form of Content-Disposition, which is
// what the API sends for its CSV exports.
export function filenameOf(header: string | null): string | undefined {
  if (!header) return undefined;
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim());
    } catch {
      // fall through to the plain form
    }
  }
  const plain = /filename\s*=\s*"([^"]*)"|filename\s*=\s*([^;]+)/i.exec(header);
  const name = plain?.[1] ?? plain?.[2]?.trim();
  return name || undefined;
}
