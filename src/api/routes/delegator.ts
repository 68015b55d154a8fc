/**
 * The Service Delegator's admin API (superusers only: it changes storage for every organization):
 * - `GET /api/0/internal/delegator/` — per delegated service: the configured and effective
 *   primary, secondaries and sampling, and the backends this installation has.
 * - `PUT /api/0/internal/delegator/` — `{"service": "nodestore", "primary": "filesystem",
 *   "secondaries": ["sql"], "sampleRate": 0.5, "organizations": [1], "projects": [2]}`; any subset,
 *   null resets a field to its configured value. Stored in SQL; every process follows within ~2 s.
 * - `GET /api/0/internal/delegator/report/?since=24h&bucket=1h&service=nodestore` — the report.
 * Left out: per-organization visibility of the report (it is installation-wide, like the switch).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { buildReport, parseDuration, readSettings, writeSettings, type SettingsPatch } from '../../services/delegator/index.js';
import { nodestoreDelegatorDefaults } from '../../services/nodestore/create.js';
import { requireSuperuser, type Principal } from '../auth.js';
import type { ApiContext } from '../context.js';
import { badRequest } from '../errors.js';

const ids = (v: unknown) => Array.isArray(v) && v.length <= 1000 && v.every((x) => Number.isInteger(x) && x > 0);

export function delegatorRoutes(app: FastifyInstance, ctx: ApiContext) {
  const principal = (r: FastifyRequest) => r.principal as Principal;
  const services = () => ({ nodestore: nodestoreDelegatorDefaults(ctx.services.config) });

  const describe = async () => {
    const out: Record<string, unknown> = {};
    for (const [name, { defaults, available }] of Object.entries(services())) {
      out[name] = { ...(await readSettings(ctx.db, name, defaults)), available, configured: defaults, delegated: available.length > 1 };
    }
    return { services: out };
  };

  app.get('/api/0/internal/delegator/', async (request) => {
    await requireSuperuser(ctx.db, principal(request));
    return describe();
  });

  app.put<{ Body: Record<string, unknown> }>('/api/0/internal/delegator/', async (request) => {
    await requireSuperuser(ctx.db, principal(request));
    const body = request.body ?? {};
    const known = services();
    const service = body.service;
    if (typeof service !== 'string' || !(service in known)) throw badRequest('Unknown service', { service: [`Expected one of: ${Object.keys(known).join(', ')}.`] });
    const { available } = known[service as keyof typeof known];
    const patch: SettingsPatch = {};
    if (body.primary !== undefined) {
      if (body.primary !== null && (typeof body.primary !== 'string' || !available.includes(body.primary))) {
        throw badRequest('Invalid primary', { primary: [`Expected one of the configured backends: ${available.join(', ')}.`] });
      }
      patch.primary = body.primary as string | null;
    }
    if (body.secondaries !== undefined) {
      const s = body.secondaries;
      if (s !== null && !(Array.isArray(s) && s.every((x) => typeof x === 'string' && available.includes(x)))) {
        throw badRequest('Invalid secondaries', { secondaries: [`Expected a list of configured backends: ${available.join(', ')}.`] });
      }
      patch.secondaries = s as string[] | null;
    }
    if (body.sampleRate !== undefined) {
      const r = body.sampleRate;
      if (r !== null && !(typeof r === 'number' && r >= 0 && r <= 1)) throw badRequest('Invalid sampleRate', { sampleRate: ['Expected a number from 0 to 1.'] });
      patch.sampleRate = r as number | null;
    }
    for (const key of ['organizations', 'projects'] as const) {
      if (body[key] === undefined) continue;
      if (body[key] !== null && !ids(body[key])) throw badRequest(`Invalid ${key}`, { [key]: ['Expected a list of ids.'] });
      patch[key] = body[key] as number[] | null;
    }
    await writeSettings(ctx.db, service, patch);
    return describe();
  });

  app.get<{ Querystring: { since?: string; bucket?: string; service?: string } }>('/api/0/internal/delegator/report/', async (request) => {
    await requireSuperuser(ctx.db, principal(request));
    const q = request.query;
    let since: number, bucketMs: number;
    try {
      since = parseDuration(q.since ?? '24h');
      bucketMs = parseDuration(q.bucket ?? '1h');
    } catch (err) {
      throw badRequest((err as Error).message);
    }
    const until = Date.now();
    return buildReport(ctx.db, { since: until - since, until, bucketMs, service: q.service || undefined });
  });
}
