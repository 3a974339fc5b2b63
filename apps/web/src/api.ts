import createClient from 'openapi-fetch';
import type { Middleware } from 'openapi-fetch';
import type { paths } from './api/schema';
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

const NO_TOKEN = 'none';

/** Request options for a call with another token than the session's (null: none). */
export function withToken(token: string | null): { headers: { authorization: string } } {
  return { headers: { authorization: token ? `Bearer ${token}` : NO_TOKEN } };
}

/** The session's bearer token on every call (unless withToken), and 401 → signed out. */
const auth: Middleware = {
  onRequest({ request }) {
    const given = request.headers.get('authorization');
    if (given === NO_TOKEN) request.headers.delete('authorization');
    else if (!given && currentToken) request.headers.set('authorization', `Bearer ${currentToken}`);
    if (!request.headers.has('accept')) request.headers.set('accept', 'application/json');
    return request;
  },
  onResponse({ request, response }) {
    if (
      response.status === 401 &&
      currentToken &&
      request.headers.get('authorization') === `Bearer ${currentToken}`
    )
      onUnauthenticated?.();
    return undefined;
  },
};

/**
 * The API, typed from its own OpenAPI document (api/schema.d.ts, `npm run gen:types`): paths,
 * parameters, bodies and answers are checked by the compiler. Call it through `call()`.
 */
export const client = createClient<paths>({ baseUrl: globalThis.location?.origin ?? '' });
client.use(auth);

interface Answer<D> {
  data?: D;
  error?: unknown;
  response: Response;
}

/**
 * The answer's body, or an ApiError: the API's problem details, or status 0 for a network
 * failure. Aborts (a page left, a newer load) are rethrown as they are.
 */
export async function call<D>(request: Promise<Answer<D>>): Promise<D> {
  let answer: Answer<D>;
  try {
    answer = await request;
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError({ status: 0, title: 'Network error', detail: (e as Error).message });
  }
  const { data, error, response } = answer;
  if (!response.ok) {
    throw new ApiError(
      error && typeof error === 'object'
        ? { status: response.status, ...(error as Record<string, unknown>) }
        : { status: response.status, title: response.statusText },
    );
  }
  return data as D;
}

/** All pages of a list (up to `max` items), `load` fetching the page after `cursor`. */
export async function allPages<T>(
  load: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>,
  max = 1000,
): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await load(cursor);
    out.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && out.length < max);
  return out;
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
