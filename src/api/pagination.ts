/**
 * Cursor pagination with Sentry's `Link` header (protocol.md §8.1):
 * `<url?cursor=0:100:0>; rel="next"; results="true"; cursor="0:100:0"`. Cursors are
 * `value:offset:is_prev`; Faultline pages by offset, so `value` is always 0.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { badRequest } from './errors.js';

export function parseCursor(raw: unknown): number {
  if (raw === undefined || raw === '') return 0;
  const m = /^(-?\d+):(\d+):([01])$/.exec(String(raw));
  if (!m) throw badRequest('Invalid cursor parameter.');
  return Number(m[2]);
}

export function parseLimit(raw: unknown, dflt = 100, max = 100): number {
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw badRequest('Invalid limit parameter.');
  return Math.min(n, max);
}

export function setLinkHeader(request: FastifyRequest, reply: FastifyReply, publicBase: string, offset: number, limit: number, hasMore: boolean): void {
  const url = new URL(request.url, publicBase);
  const link = (cursor: string, rel: string, results: boolean) => {
    url.searchParams.set('cursor', cursor);
    return `<${url.toString()}>; rel="${rel}"; results="${results}"; cursor="${cursor}"`;
  };
  const prev = `0:${Math.max(0, offset - limit)}:1`;
  const next = `0:${offset + limit}:0`;
  reply.header('Link', `${link(prev, 'previous', offset > 0)}, ${link(next, 'next', hasMore)}`);
}
