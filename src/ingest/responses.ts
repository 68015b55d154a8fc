/**
 * Replies in Sentry's shapes (relay `BadStoreRequest::error_response`): JSON `{"detail", "causes"}`
 * and the `X-Sentry-Error` header on errors, and CORS headers on everything, because the browser
 * SDK can read a status only when the response allows its origin.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProtocolError } from '../protocol/index.js';

export const CORS_ALLOW_HEADERS =
  'x-sentry-auth, x-requested-with, x-forwarded-for, origin, referer, accept, content-type, authentication, authorization, content-encoding, transfer-encoding';

export function applyCors(request: FastifyRequest, reply: FastifyReply): void {
  const origin = request.headers.origin;
  reply.header('Access-Control-Allow-Origin', typeof origin === 'string' && origin !== 'null' ? origin : '*');
  reply.header('Vary', 'Origin');
  reply.header('Access-Control-Expose-Headers', 'x-sentry-error, x-sentry-rate-limits, retry-after');
}

export function sendPreflight(request: FastifyRequest, reply: FastifyReply): void {
  applyCors(request, reply);
  reply
    .header('Access-Control-Allow-Methods', 'GET, POST')
    .header('Access-Control-Allow-Headers', CORS_ALLOW_HEADERS)
    .header('Access-Control-Max-Age', '3600')
    .code(200)
    .send();
}

export function sendIngestError(reply: FastifyReply, status: number, detail: string, causes: string[] = []): FastifyReply {
  // A body we stopped reading (too large) would otherwise be drained to its end by Node to keep
  // the connection alive; closing it makes an endless body cost nothing more.
  if (status === 413) reply.header('Connection', 'close');
  return reply
    .code(status)
    .header('X-Sentry-Error', detail.replace(/[\r\n]/g, ' ').slice(0, 200))
    .header('Content-Type', 'application/json')
    .send(JSON.stringify(causes.length ? { detail, causes } : { detail }));
}

/** Maps a ProtocolError to its reply; anything else is re-thrown for the 500 handler. */
export function sendProtocolError(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof ProtocolError) {
    const detail =
      err.reason === 'invalid_envelope' || err.reason === 'invalid_json'
        ? 'invalid event envelope'
        : err.reason === 'too_large'
          ? 'payload too large'
          : err.reason === 'empty_body'
            ? 'empty request body'
            : err.reason === 'invalid_compression'
              ? 'invalid compressed body'
              : err.message;
    return sendIngestError(reply, err.status, detail, detail === err.message ? [] : [err.message]);
  }
  throw err;
}
