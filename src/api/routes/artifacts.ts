/**
 * Source-map uploads from sentry-cli (protocol.md §6.2–6.3): the chunk-upload options and chunk
 * POST, artifact-bundle assembly (3.x and 2.x with `artifact_bundles[_v2]`), the legacy
 * release-bundle assembly (`releases/{v}/assemble/`, 2.x with `release_files` only) and the
 * legacy per-file release files (`releases files upload-sourcemaps`, 2.x), answering 409 for a
 * name that already exists. Sentry: `api/endpoints/chunk.py`,
 * `organization_artifactbundle_assemble.py`, `organization_release_assemble.py`,
 * `project_release_files.py`.
 *
 * Left out: debug files (`files/difs/assemble/`), downloading or deleting single release files.
 */
import { gunzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requireOrg, requireScope, type Principal } from '../auth.js';
import { loadProject, type ApiContext } from '../context.js';
import { ApiError, badRequest } from '../errors.js';
import { parseMultipart } from '../body-encoding.js';
import { parseCursor, parseLimit, setLinkHeader } from '../pagination.js';
import { findRelease, resolveProjects } from '../release-queries.js';
import { iso } from '../serializers/issue.js';
import { assembleBundle, indexFiles, limits, putBlob, sha1Hex } from '../../sourcemaps/index.js';
import { requireReleaseWrite } from './releases.js';
import type { ArtifactFile, Organization } from '../../db/index.js';

const principal = (r: FastifyRequest) => r.principal as Principal;
const SHA1 = /^[0-9a-f]{40}$/;

// Sentry's list (api/endpoints/chunk.py CHUNK_UPLOAD_ACCEPT); only the JS ones are assembled here,
// the others are advertised so sentry-cli 2.x picks the artifact-bundle flow.
const ACCEPT = ['debug_files', 'release_files', 'pdbs', 'sources', 'bcsymbolmaps', 'il2cpp', 'portablepdbs', 'artifact_bundles', 'artifact_bundles_v2', 'proguard'];

function assembleBody(request: FastifyRequest): { checksum: string; chunks: string[]; b: Record<string, unknown> } {
  const b = (request.body ?? {}) as Record<string, unknown>;
  if (typeof b !== 'object' || typeof b.checksum !== 'string' || !SHA1.test(b.checksum)) throw badRequest('checksum must be a lowercase hex SHA-1');
  if (!Array.isArray(b.chunks) || b.chunks.length > 100_000 || !b.chunks.every((c) => typeof c === 'string' && SHA1.test(c))) {
    throw badRequest('chunks must be a list of lowercase hex SHA-1s');
  }
  return { checksum: b.checksum, chunks: b.chunks as string[], b };
}

function serializeFile(f: ArtifactFile) {
  let headers: Record<string, string> = {};
  try {
    headers = JSON.parse(f.headers);
  } catch {
    /* none */
  }
  return { id: String(f.id), name: f.url, dist: f.dist || null, headers, size: Number(f.size), sha1: f.sha1, dateCreated: iso(f.date_created) };
}

export function artifactRoutes(app: FastifyInstance, ctx: ApiContext) {
  const dialect = ctx.services.database.dialect;

  app.get<{ Params: { org: string } }>('/api/0/organizations/:org/chunk-upload/', async (request) => {
    requireReleaseWrite(principal(request));
    const org = await requireOrg(ctx.db, principal(request), request.params.org);
    return {
      url: `${ctx.baseUrl}/api/0/organizations/${encodeURIComponent(org.slug)}/chunk-upload/`,
      chunkSize: limits.CHUNK_SIZE,
      chunksPerRequest: limits.CHUNKS_PER_REQUEST,
      maxRequestSize: limits.MAX_REQUEST_SIZE,
      maxFileSize: limits.MAX_FILE_SIZE,
      maxWait: 60,
      concurrency: 4,
      hashAlgorithm: 'sha1',
      compression: ['gzip'],
      accept: ACCEPT,
    };
  });

  app.post<{ Params: { org: string } }>('/api/0/organizations/:org/chunk-upload/', { bodyLimit: limits.CHUNK_UPLOAD_BODY_LIMIT }, async (request) => {
    requireReleaseWrite(principal(request));
    await requireOrg(ctx.db, principal(request), request.params.org);
    const parts = parseMultipart(request.headers['content-type'], request.body).filter((p) => p.name === 'file' || p.name === 'file_gzip');
    if (parts.length > limits.CHUNKS_PER_REQUEST) throw badRequest(`At most ${limits.CHUNKS_PER_REQUEST} chunks per request`);
    for (const part of parts) {
      let data: Buffer = part.data;
      if (part.name === 'file_gzip') {
        try {
          data = gunzipSync(part.data, { maxOutputLength: limits.CHUNK_SIZE });
        } catch {
          throw badRequest(`Chunk ${part.filename ?? ''} is not valid gzip or is larger than ${limits.CHUNK_SIZE} bytes`);
        }
      }
      if (data.byteLength > limits.CHUNK_SIZE) throw badRequest(`Chunk is larger than ${limits.CHUNK_SIZE} bytes`);
      const sha1 = sha1Hex(data);
      if (part.filename && part.filename.toLowerCase() !== sha1) throw badRequest(`Checksum mismatch: chunk ${part.filename} has SHA-1 ${sha1}`);
      await putBlob(ctx.db, dialect, 'chunk', data, sha1);
    }
    return [];
  });

  app.post<{ Params: { org: string } }>('/api/0/organizations/:org/artifactbundle/assemble/', async (request) => {
    requireReleaseWrite(principal(request));
    const org = await requireOrg(ctx.db, principal(request), request.params.org);
    const { checksum, chunks, b } = assembleBody(request);
    const projectIds = await resolveProjects(ctx.db, org, b.projects);
    if (projectIds.length === 0) throw badRequest('projects is required', { projects: ['This field is required.'] });
    const str = (v: unknown, max: number) => (typeof v === 'string' && v ? v.slice(0, max) : null);
    return assembleBundle(ctx.db, dialect, { organizationId: org.id, checksum, chunks, projectIds, release: str(b.version, 250), dist: str(b.dist, 64) }, ctx.services.cache);
  });

  app.post<{ Params: { org: string; version: string } }>('/api/0/organizations/:org/releases/:version/assemble/', async (request) => {
    requireReleaseWrite(principal(request));
    const org = await requireOrg(ctx.db, principal(request), request.params.org);
    const release = await findRelease(ctx.db, org, request.params.version);
    const { checksum, chunks, b } = assembleBody(request);
    const dist = typeof b.dist === 'string' && b.dist ? b.dist.slice(0, 64) : null;
    return assembleBundle(ctx.db, dialect, { organizationId: org.id, checksum, chunks, projectIds: [], release: release.version, dist }, ctx.services.cache);
  });

  // Legacy release files, per project and org-wide.
  const listFiles = async (request: FastifyRequest, reply: any, org: Organization, projectId: number | null, version: string) => {
    const release = await findRelease(ctx.db, org, version);
    const q = request.query as Record<string, string | undefined>;
    const offset = parseCursor(q.cursor);
    const limit = parseLimit(q.per_page);
    let query = ctx.db.selectFrom('artifact_files').selectAll().where('organization_id', '=', org.id).where('release', '=', release.version);
    if (projectId !== null) query = query.where((eb) => eb.or([eb('project_id', '=', projectId), eb('project_id', 'is', null)]));
    const rows = await query.orderBy('id').limit(limit + 1).offset(offset).execute();
    setLinkHeader(request, reply, ctx.baseUrl, offset, limit, rows.length > limit);
    return rows.slice(0, limit).map(serializeFile);
  };

  const uploadFile = async (request: FastifyRequest, reply: any, org: Organization, projectId: number | null, version: string) => {
    const release = await findRelease(ctx.db, org, version);
    const parts = parseMultipart(request.headers['content-type'], request.body);
    const file = parts.find((p) => p.name === 'file');
    if (!file) throw badRequest('Missing uploaded file');
    if (file.data.byteLength > limits.MAX_ARTIFACT_SIZE) throw new ApiError(413, `File is larger than ${limits.MAX_ARTIFACT_SIZE} bytes`);
    const text = (n: string) => parts.find((p) => p.name === n)?.data.toString('utf8');
    const name = (text('name') ?? file.filename ?? '').trim();
    if (!name || name.length > 1024) throw badRequest('File name must be specified');
    const dist = (text('dist') ?? '').trim().slice(0, 64);
    const headers: Record<string, string> = {};
    for (const h of parts.filter((p) => p.name === 'header')) {
      const [k, ...v] = h.data.toString('utf8').split(':');
      if (!k || v.length === 0) throw badRequest('header value was not formatted correctly');
      headers[k.trim().toLowerCase()] = v.join(':').trim();
    }
    const exists = await ctx.db
      .selectFrom('artifact_files')
      .select('id')
      .where('organization_id', '=', org.id)
      .where('release', '=', release.version)
      .where('dist', '=', dist)
      .where('url_hash', '=', sha1Hex(name))
      .where('bundle_id', 'is', null)
      .where((eb) => (projectId === null ? eb('project_id', 'is', null) : eb('project_id', '=', projectId)))
      .executeTakeFirst();
    if (exists) throw new ApiError(409, 'A file matching this name already exists for the given release');
    const type = /\.map$/i.test(name) ? 'source_map' : /\.(m|c)?js$/i.test(name) ? 'minified_source' : 'source';
    await indexFiles(ctx.db, dialect, { organizationId: org.id, projectIds: projectId === null ? [] : [projectId], release: release.version, dist: dist || null, bundleRowId: null }, [
      { path: name, type, url: name, headers, debugId: null, content: file.data },
    ], ctx.services.cache);
    const row = await ctx.db.selectFrom('artifact_files').selectAll().where('organization_id', '=', org.id).where('url_hash', '=', sha1Hex(name)).where('release', '=', release.version).orderBy('id', 'desc').executeTakeFirstOrThrow();
    reply.code(201);
    return serializeFile(row);
  };

  type ProjectFiles = { Params: { org: string; project: string; version: string } };
  type OrgFiles = { Params: { org: string; version: string } };
  const fileLimit = { bodyLimit: limits.MAX_ARTIFACT_SIZE + 1024 * 1024 };

  app.get<ProjectFiles>('/api/0/projects/:org/:project/releases/:version/files/', async (request, reply) => {
    requireScope(principal(request), 'project:read');
    const { org, project } = await loadProject(ctx, principal(request), request.params.org, request.params.project);
    return listFiles(request, reply, org, project.id, request.params.version);
  });
  app.post<ProjectFiles>('/api/0/projects/:org/:project/releases/:version/files/', fileLimit, async (request, reply) => {
    requireReleaseWrite(principal(request));
    const { org, project } = await loadProject(ctx, principal(request), request.params.org, request.params.project);
    return uploadFile(request, reply, org, project.id, request.params.version);
  });
  app.get<OrgFiles>('/api/0/organizations/:org/releases/:version/files/', async (request, reply) => {
    requireScope(principal(request), 'project:read');
    const org = await requireOrg(ctx.db, principal(request), request.params.org);
    return listFiles(request, reply, org, null, request.params.version);
  });
  app.post<OrgFiles>('/api/0/organizations/:org/releases/:version/files/', fileLimit, async (request, reply) => {
    requireReleaseWrite(principal(request));
    const org = await requireOrg(ctx.db, principal(request), request.params.org);
    return uploadFile(request, reply, org, null, request.params.version);
  });
}
