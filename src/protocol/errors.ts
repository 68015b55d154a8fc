/**
 * The one error type of `src/protocol/`: every way a client request can be malformed, as a stable
 * reason string plus the HTTP status the ingest edge answers with.
 *
 * The reasons double as outcome names (DESIGN.md: "every dropped item has a named reason"). The
 * statuses follow Relay's `BadStoreRequest::error_response` (relay `endpoints/common.rs`): 400 for
 * malformed input, 413 for size overflows (`StorePayloadError::Overflow`), 401 for missing or bad
 * credentials (older Relay's "missing authorization information"; protocol.md §1.2–1.3).
 * Left out: rate limiting, disabled keys and other policy rejections; those belong to ingest.
 */

/** Stable machine-readable reasons; safe to show to clients and to count as outcomes. */
export type ProtocolErrorReason =
  | 'invalid_envelope'
  | 'invalid_json'
  | 'empty_body'
  | 'invalid_compression'
  | 'too_large'
  | 'missing_auth'
  | 'conflicting_auth'
  | 'invalid_auth'
  | 'invalid_dsn';

/** The HTTP status answered for each reason. */
export const PROTOCOL_ERROR_STATUS: Readonly<Record<ProtocolErrorReason, number>> = {
  invalid_envelope: 400,
  invalid_json: 400,
  empty_body: 400,
  invalid_compression: 400,
  too_large: 413,
  missing_auth: 401,
  conflicting_auth: 400,
  invalid_auth: 401,
  invalid_dsn: 400,
};

/**
 * A client sent something we cannot accept. `reason` is stable, `message` is a human-readable
 * detail (it goes into the `{"detail": …}` body and `X-Sentry-Error`), `status` is the HTTP status.
 */
export class ProtocolError extends Error {
  constructor(
    public readonly reason: ProtocolErrorReason,
    message: string,
    public readonly status: number = PROTOCOL_ERROR_STATUS[reason],
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** Builds a {@link ProtocolError} with the default status for `reason`. */
export function protocolError(reason: ProtocolErrorReason, message: string): ProtocolError {
  return new ProtocolError(reason, message, PROTOCOL_ERROR_STATUS[reason]);
}

/** True when `err` is a {@link ProtocolError} (optionally with the given reason). */
export function isProtocolError(err: unknown, reason?: ProtocolErrorReason): err is ProtocolError {
  return err instanceof ProtocolError && (reason === undefined || err.reason === reason);
}
