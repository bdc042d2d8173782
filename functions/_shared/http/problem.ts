// RFC 9457 problem details: the one error shape every function answers with.
import type { Context } from 'hono';

export interface FieldError {
  path: string;
  message: string;
}

const TITLES: Record<number, [title: string, code: string]> = {
  400: ['Bad Request', 'invalid_request'],
  401: ['Unauthorized', 'unauthorized'],
  403: ['Forbidden', 'forbidden'],
  404: ['Not Found', 'not_found'],
  405: ['Method Not Allowed', 'method_not_allowed'],
  409: ['Conflict', 'conflict'],
  422: ['Unprocessable Content', 'unprocessable'],
  413: ['Content Too Large', 'payload_too_large'],
  415: ['Unsupported Media Type', 'unsupported_media_type'],
  500: ['Internal Server Error', 'internal_error'],
  503: ['Service Unavailable', 'service_unavailable'],
};

export class Problem extends Error {
  readonly status: number;
  readonly code: string;
  readonly errors: FieldError[] | undefined;
  constructor(status: number, detail: string, options: { code?: string; errors?: FieldError[]; cause?: unknown } = {}) {
    super(detail, { cause: options.cause });
    this.name = 'Problem';
    this.status = status;
    this.code = options.code ?? (TITLES[status]?.[1] ?? (status >= 500 ? 'internal_error' : 'invalid_request'));
    this.errors = options.errors;
  }
}

export function problemBody(p: Problem) {
  return {
    type: `https://training-registry.dev/problems/${p.code}`,
    title: TITLES[p.status]?.[0] ?? 'Error',
    status: p.status,
    detail: p.message,
    code: p.code,
    ...(p.errors ? { errors: p.errors } : {}),
  };
}

/** Seconds a client should wait before retrying a 503 (the database is unavailable, or the request's deadline passed). */
export const RETRY_AFTER_SECONDS = 2;

export function problemResponse(c: Context, p: Problem): Response {
  return c.body(JSON.stringify(problemBody(p)), p.status as 400, {
    'content-type': 'application/problem+json',
    ...(p.status === 503 ? { 'retry-after': String(RETRY_AFTER_SECONDS) } : {}),
  });
}
