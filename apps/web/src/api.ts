import type { Problem } from './types';

/** A problem-details answer (RFC 9457) from the API, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail || problem.title || `HTTP ${problem.status}`);
    this.name = 'ApiError';
  }
  get status(): number {
    return this.problem.status;
  }
  get code(): string | undefined {
    return this.problem.code;
  }
}

let currentToken: string | null = null;
let onUnauthenticated: (() => void) | null = null;

export function setApiToken(token: string | null): void {
  currentToken = token;
}

/** Called when the API answers 401 to a signed-in request (expired or revoked token). */
export function setUnauthenticatedHandler(fn: (() => void) | null): void {
  onUnauthenticated = fn;
}

export interface RequestOptions {
  token?: string | null;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export async function api<T>(
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  body?: unknown,
  opts: RequestOptions = {},
): Promise<T> {
  const token = opts.token === undefined ? currentToken : opts.token;
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  const form = body instanceof FormData;
  if (body !== undefined && !form) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : form ? body : JSON.stringify(body),
      signal: opts.signal,
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError({ status: 0, title: 'Network error', detail: (e as Error).message });
  }
  const text = await res.text();
  let json: unknown = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (!res.ok) {
    const problem: Problem =
      json && typeof json === 'object'
        ? { status: res.status, ...(json as Record<string, unknown>) }
        : { status: res.status, title: res.statusText };
    if (res.status === 401 && token && token === currentToken) onUnauthenticated?.();
    throw new ApiError(problem);
  }
  return json as T;
}

/** A binary answer (an attachment, the case packet PDF) as a Blob; errors as for api(). */
export async function getBlob(path: string, accept = '*/*'): Promise<Blob> {
  const headers: Record<string, string> = { accept };
  if (currentToken) headers.authorization = `Bearer ${currentToken}`;
  const res = await fetch(path, { headers });
  if (!res.ok) {
    const text = await res.text();
    let problem: Problem = { status: res.status, title: res.statusText };
    try {
      problem = { status: res.status, ...(JSON.parse(text) as Record<string, unknown>) };
    } catch {
      /* not JSON */
    }
    throw new ApiError(problem);
  }
  return res.blob();
}

/** Saves a Blob under `filename` (the browser's download). */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export const get = <T>(path: string, opts?: RequestOptions) => api<T>('GET', path, undefined, opts);
export const post = <T>(path: string, body?: unknown, opts?: RequestOptions) =>
  api<T>('POST', path, body ?? {}, opts);
export const put = <T>(path: string, body: unknown, opts?: RequestOptions) =>
  api<T>('PUT', path, body, opts);

/** All pages of a list endpoint (up to `max` items). */
export async function getAll<T>(path: string, max = 1000, opts?: RequestOptions): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const url: string = `${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page: { items: T[]; nextCursor: string | null } = await get(url, opts);
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && out.length < max);
  return out;
}

export function qs(params: Record<string, string | number | null | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}
