/**
 * API errors: one class carrying the HTTP status and Sentry's `{"detail": ...}` body. Routes throw
 * it; the error handler in index.ts turns it into the reply. 404 is used instead of 403 where
 * answering 403 would reveal that another organization's object exists (as Sentry does).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
  }
}

export const notFound = (what = 'The requested resource does not exist') => new ApiError(404, what);
export const badRequest = (detail: string, extra: Record<string, unknown> = {}) => new ApiError(400, detail, extra);
