/**
 * The HTTP edge for SDKs: `/api/:projectId/envelope/` and `/api/:projectId/store/`.
 *
 * It only authenticates, bounds, decompresses, splits and enqueues (DESIGN.md "queue
 * everything"); every accepted item is in the durable queue before the SDK gets its 200, so a
 * crash after the reply loses nothing. All heavy work happens in the worker (src/pipeline).
 * Rate limits and back-pressure are in rate-limits.ts. Left out here: security (CSP) reports,
 * minidumps, attachments storage.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Limits } from '../config/index.js';
import {
  extractAuth,
  normalizeUuid,
  parseEnvelope,
  parseEnvelopeHeaders,
  parseJson,
  ProtocolError,
  readBody,
  type ClientAuth,
} from '../protocol/index.js';
import { encodeIngestTaskParts, INGEST_QUEUE, type IngestTask } from '../services/queue/ingest-task.js';
import type { QueueBackend } from '../services/queue/index.js';
import type { BodyDictionaries } from '../services/nodestore/dictionaries.js';
import type { CacheBackend } from '../services/cache/index.js';
import type { Kysely } from 'kysely';
import type { Database } from '../db/index.js';
import { planEnvelope, type AcceptedItem } from './envelope-items.js';
import { categoryOf, formatRateLimits, IngestGate, type RateLimit } from './rate-limits.js';
import type { QuotasBackend } from '../services/quotas/index.js';
import { ProjectKeyResolver, type KeyInfo } from './project-keys.js';
import { applyCors, sendIngestError, sendPreflight, sendProtocolError } from './responses.js';
import { RejectedOutcomes } from './rejected-outcomes.js';

export interface IngestDeps {
  db: Kysely<Database>;
  cache: CacheBackend;
  queue: QueueBackend;
  quotas: QuotasBackend;
  limits: Limits;
  /** Queued tasks beyond which every request gets 429 (back-pressure). */
  maxQueueBacklog: number;
  /** Compress event payloads on the queue (format 3 tasks, or 4 with the project's body dictionary). */
  compressQueue?: boolean;
  /** The projects' body dictionaries, to compress their queued payloads with (services/nodestore/dictionaries.ts). */
  dictionaries?: Pick<BodyDictionaries, 'forQueue'>;
  /** Called after items were enqueued (wakes a same-process worker). */
  onAccepted?: () => void;
}

/** 1×1 transparent GIF, what Sentry answers to `GET /store/` (old image-beacon clients). */
const PIXEL = Buffer.from('R0lGODlhAQABAAAAACH5BAEAAAAALAAAAAABAAEAAAI=', 'base64');

interface Params {
  projectId: string;
}

function clientIp(request: FastifyRequest): string | null {
  const xff = request.headers['x-forwarded-for'];
  const first = (Array.isArray(xff) ? xff[0] : xff)?.split(',')[0]?.trim();
  return first || request.socket.remoteAddress || null;
}

function allowsNonFinite(auth: ClientAuth | null, request: FastifyRequest): boolean {
  // Relay patches NaN/Infinity only for Python clients; we accept them from any client, which
  // costs nothing on valid JSON (the lenient path runs only after JSON.parse fails).
  void auth;
  void request;
  return true;
}

export async function ingestRoutes(app: FastifyInstance, deps: IngestDeps): Promise<void> {
  const keys = new ProjectKeyResolver(deps.db, deps.cache);
  const gate = new IngestGate(deps.quotas, deps.queue, INGEST_QUEUE, deps.maxQueueBacklog);
  const rejected = new RejectedOutcomes(deps.db, (err) => app.log.warn({ err }, 'could not record rate-limited outcomes'));
  app.addHook('onClose', async () => rejected.flush());

  /**
   * Applies back-pressure and rate limits; sends the 429 itself when nothing is left to accept.
   * Returns the items to enqueue, or null when the reply was sent.
   */
  async function admit(reply: FastifyReply, key: KeyInfo, items: AcceptedItem[]): Promise<AcceptedItem[] | null> {
    if (items.length === 0) return items;
    const limits: RateLimit[] = [];
    let accepted: AcceptedItem[];
    if (await gate.backlogFull()) {
      limits.push(gate.backlogLimit());
      accepted = [];
    } else {
      const r = await gate.check(key, items);
      accepted = r.items;
      limits.push(...r.limits);
    }
    if (limits.length === 0) return accepted;
    // Count what was refused, with the reason of the limit that refused its category.
    const reasonOf = (category: string) => limits.find((l) => l.categories.length === 0 || l.categories.includes(category))?.reasonCode ?? limits[0].reasonCode;
    for (const it of items) {
      if (accepted.includes(it)) continue;
      const category = categoryOf(it.itemType);
      rejected.add(key.projectId, category, reasonOf(category));
    }
    reply.header('X-Sentry-Rate-Limits', formatRateLimits(limits));
    if (accepted.length > 0) return accepted;
    const retryAfter = Math.max(...limits.map((l) => Math.ceil(l.retryAfter)));
    reply.header('Retry-After', String(retryAfter));
    sendIngestError(reply, 429, 'event submission rejected with_reason: ' + limits[0].reasonCode);
    return null;
  }

  // The edge reads request bodies itself: streamed, size-capped, decompressed with a cap.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  async function authenticate(
    request: FastifyRequest<{ Params: Params }>,
    reply: FastifyReply,
    envelopeDsn: string | null,
  ): Promise<{ auth: ClientAuth; key: KeyInfo } | null> {
    let auth: ClientAuth;
    try {
      auth = extractAuth({ headers: request.headers, query: request.query as Record<string, unknown>, envelopeDsn });
    } catch (err) {
      sendProtocolError(reply, err);
      return null;
    }
    const key = await keys.resolve(auth.publicKey);
    if (!key) {
      sendIngestError(reply, 401, 'invalid authentication: unknown public key');
      return null;
    }
    const projectId = request.params.projectId;
    if (projectId !== undefined && String(key.projectId) !== String(Number.parseInt(projectId, 10))) {
      sendIngestError(reply, 403, 'event submission rejected with_reason: ProjectId', ['the key does not belong to this project']);
      return null;
    }
    if (!key.isActive) {
      sendIngestError(reply, 403, 'event submission rejected with_reason: DisabledKey');
      return null;
    }
    return { auth, key };
  }

  function hasRequestAuth(request: FastifyRequest): boolean {
    const q = request.query as Record<string, unknown>;
    return Boolean(q.sentry_key || request.headers['x-sentry-auth'] || /^sentry /i.test(String(request.headers.authorization ?? '')));
  }

  async function readRequestBody(request: FastifyRequest): Promise<Buffer> {
    const encoding = request.headers['content-encoding'];
    return readBody(request.raw, {
      contentEncoding: Array.isArray(encoding) ? encoding.join(',') : (encoding ?? null),
      maxCompressed: deps.limits.maxCompressedSize,
      maxDecompressed: deps.limits.maxEnvelopeSize,
    });
  }

  async function enqueue(
    request: FastifyRequest,
    access: { auth: ClientAuth; key: KeyInfo },
    eventId: string | null,
    items: AcceptedItem[],
  ): Promise<void> {
    if (items.length === 0) return;
    const receivedAt = Date.now();
    const ua = request.headers['user-agent'] ?? null;
    const dictionary = deps.compressQueue ? (deps.dictionaries?.forQueue(access.key.projectId) ?? null) : null;
    const tasks = items.map((it) => {
      const task: Omit<IngestTask, 'payload'> & { payload: Buffer } = {
        v: 1,
        itemType: it.itemType,
        projectId: access.key.projectId,
        keyId: access.key.keyId,
        receivedAt,
        clientIp: clientIp(request),
        userAgent: ua,
        eventId: it.itemType === 'event' || it.itemType === 'store' || it.itemType === 'transaction' || it.itemType === 'feedback' ? eventId : null,
        client: access.auth.client ?? null,
        payload: it.payload,
      };
      return encodeIngestTaskParts(task, { compress: deps.compressQueue, dictionary });
    });
    await deps.queue.enqueue(INGEST_QUEUE, tasks);
    deps.onAccepted?.();
  }

  async function handleEnvelope(request: FastifyRequest<{ Params: Params }>, reply: FastifyReply, preRead?: Buffer) {
    let access = hasRequestAuth(request) ? await authenticate(request, reply, null) : null;
    if (hasRequestAuth(request) && !access) return reply;
    let body: Buffer;
    try {
      body = preRead ?? (await readRequestBody(request));
      if (body.length === 0) throw new ProtocolError('empty_body', 'empty request body', 400);
      if (!access) {
        // Tunnelled envelopes authenticate with the `dsn` in their header line.
        const headers = parseEnvelopeHeaders(body);
        access = await authenticate(request, reply, typeof headers.dsn === 'string' ? headers.dsn : null);
        if (!access) return reply;
      }
      const envelope = parseEnvelope(body);
      const plan = planEnvelope(envelope, deps.limits, allowsNonFinite(access.auth, request), access.key.projectId);
      let eventId = plan.eventId ? normalizeUuid(plan.eventId) : null;
      const hasEvent = plan.items.some((i) => i.itemType === 'event' || i.itemType === 'transaction' || i.itemType === 'feedback');
      if (hasEvent && !eventId) eventId = randomUUID().replace(/-/g, '');
      const admitted = await admit(reply, access.key, plan.items);
      if (admitted === null) return reply;
      await enqueue(request, access, eventId, admitted);
      return reply.code(200).header('Content-Type', 'application/json').send(eventId ? { id: eventId } : {});
    } catch (err) {
      return sendProtocolError(reply, err);
    }
  }

  async function handleStore(request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) {
    const access = await authenticate(request, reply, null);
    if (!access) return reply;
    try {
      const body = await readRequestBody(request);
      if (body.length === 0) throw new ProtocolError('empty_body', 'empty request body', 400);
      if (String(request.headers['content-type'] ?? '').startsWith('application/x-sentry-envelope')) {
        return handleEnvelope(request, reply, body);
      }
      const text = body.toString('utf8');
      const event = parseJson(text, { allowNonFinite: allowsNonFinite(access.auth, request) });
      if (!event || typeof event !== 'object' || Array.isArray(event)) {
        throw new ProtocolError('invalid_json', 'the event is not a JSON object', 400);
      }
      if (body.length > deps.limits.maxEventSize) {
        throw new ProtocolError('too_large', `event of ${body.length} bytes exceeds ${deps.limits.maxEventSize}`, 413);
      }
      const raw = (event as Record<string, unknown>).event_id;
      const eventId = (typeof raw === 'string' && normalizeUuid(raw)) || randomUUID().replace(/-/g, '');
      const type = (event as Record<string, unknown>).type === 'transaction' ? 'transaction' : 'event';
      const admitted = await admit(reply, access.key, [{ itemType: type, payload: body }]);
      if (admitted === null) return reply;
      await enqueue(request, access, eventId, admitted);
      return reply.code(200).header('Content-Type', 'application/json').send({ id: eventId });
    } catch (err) {
      return sendProtocolError(reply, err);
    }
  }

  app.addHook('onRequest', async (request, reply) => {
    applyCors(request, reply);
  });

  app.options('/api/:projectId/*', async (request, reply) => sendPreflight(request, reply));
  app.post<{ Params: Params }>('/api/:projectId/envelope/', handleEnvelope);
  app.post<{ Params: Params }>('/api/:projectId/store/', handleStore);
  app.get<{ Params: Params }>('/api/:projectId/store/', async (request, reply) => {
    const access = await authenticate(request, reply, null);
    if (!access) return reply;
    return reply.code(200).header('Content-Type', 'image/gif').send(PIXEL);
  });
}
