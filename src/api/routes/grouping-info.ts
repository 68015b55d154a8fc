/**
 * `GET /api/0/projects/{org}/{project}/events/{event_id}/grouping-info/`: how an event was grouped,
 * one entry per variant (app, system, default, custom_fingerprint, …) with its hash, description
 * and component tree, in the shape of Sentry's `EventGroupingInfoEndpoint`
 * (`src/sentry/api/endpoints/event_grouping_info.py`, `grouping/grouping_info.py`).
 *
 * Like Sentry, grouping is recomputed from the stored event body with the project's current
 * fingerprinting and stack trace rules, so the answer reflects today's rules. Leaves out the
 * `?config=` parameter (one grouping config only) and the per-variant Seer similarity fields.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { eventById } from '../../db/event-ids.js';
import { groupEvent, type GroupingComponent, type GroupingVariant } from '../../grouping/index.js';
import type { NormalizedEvent } from '../../protocol/index.js';
import { getEventBodies } from '../../services/nodestore/index.js';
import { requireScope, type Principal } from '../auth.js';
import { loadProject, type ApiContext } from '../context.js';
import { notFound } from '../errors.js';

/** A component as Sentry's `BaseGroupingComponent.as_dict()` serializes it. */
interface ComponentJson {
  id: string;
  name: string | null;
  contributes: boolean;
  hint: string | null;
  values: (ComponentJson | string)[];
}

function componentJson(c: GroupingComponent): ComponentJson {
  return {
    id: c.id,
    name: c.name ?? null,
    contributes: c.contributes,
    hint: c.hint,
    values: c.values.map((v) => (typeof v === 'string' ? v : componentJson(v))),
  };
}

/** One variant as Sentry's `BaseVariant.as_dict()` plus the endpoint's `key` / `hashMismatch`. */
export function variantJson(v: GroupingVariant, storedHashes: readonly string[] | null) {
  return {
    key: v.key,
    type: v.type,
    description: v.description,
    hash: v.hash,
    hashMismatch: storedHashes !== null && v.contributes && v.hash !== null && !storedHashes.includes(v.hash),
    contributes: v.contributes,
    hint: v.hint ?? null,
    ...(v.component ? { component: componentJson(v.component) } : {}),
    ...(v.values ? { values: v.values } : {}),
  };
}

export function groupingInfoRoutes(app: FastifyInstance, ctx: ApiContext) {
  const principal = (r: FastifyRequest) => r.principal as Principal;

  app.get<{ Params: { org: string; project: string; eventId: string } }>(
    '/api/0/projects/:org/:project/events/:eventId/grouping-info/',
    async (request) => {
      requireScope(principal(request), 'event:read');
      const { project } = await loadProject(ctx, principal(request), request.params.org, request.params.project);
      const id = request.params.eventId.replace(/-/g, '').toLowerCase();
      const row = await eventById(ctx.db, ctx.services.database.dialect, project.id, id);
      if (!row) throw notFound();
      const [stored] = (await getEventBodies(ctx.services.nodestore, [row])) as (NormalizedEvent | null)[];
      if (!stored || typeof stored !== 'object') throw notFound();
      // groupEvent may append notes to `errors`; never touch the cached body.
      const event = structuredClone(stored);
      const storedHashes = Array.isArray(stored.hashes) ? (stored.hashes as string[]) : null;
      const result = groupEvent(event, {
        fingerprintingRules: project.fingerprinting_rules,
        stacktraceRules: project.grouping_enhancements ?? '',
      });
      const out: Record<string, ReturnType<typeof variantJson>> = {};
      for (const [key, v] of Object.entries(result.variants)) out[key] = variantJson(v, storedHashes);
      return out;
    },
  );
}
