/** Admin commands: `project create ORG/SLUG`, `token create`, `user create EMAIL`. */
import type { Command } from 'commander';
import { publicUrl, type Config } from '../config/index.js';
import {
  addMember,
  createApiToken,
  createProject,
  createProjectKey,
  createUser,
  getOrCreateOrganization,
  keyDsn,
  SCOPES,
} from '../db/models/index.js';
import { createServices } from '../services/index.js';

/** Scopes of a token created without --scopes: everything but admin powers. */
const DEFAULT_SCOPES = ['org:read', 'project:read', 'project:write', 'project:releases', 'team:read', 'member:read', 'event:read', 'event:write', 'event:admin'];

type ConfigFrom = (o: { dataDir?: string }) => Config;

async function withServices<T>(configFrom: ConfigFrom, o: { dataDir?: string }, fn: (s: Awaited<ReturnType<typeof createServices>>, c: Config) => Promise<T>) {
  const config = configFrom(o);
  const services = await createServices(config);
  try {
    return await fn(services, config);
  } finally {
    await services.close();
  }
}

export function adminCommands(program: Command, configFrom: ConfigFrom): void {
  const project = program.command('project').description('manage projects');
  project
    .command('create <orgSlash>')
    .description('create a project (and its organization if absent): ORG/SLUG')
    .option('--name <name>', 'display name')
    .option('--platform <platform>', 'platform, e.g. javascript, node, python')
    .option('--json', 'print JSON')
    .option('-d, --data-dir <dir>', 'data directory')
    .action(async (orgSlash: string, o) => {
      const m = /^([^/]+)\/([^/]+)$/.exec(orgSlash);
      if (!m) throw new Error('expected ORG/SLUG, e.g. acme/backend');
      await withServices(configFrom, o, async (s, config) => {
        const db = s.database.db;
        const org = await getOrCreateOrganization(db, m[1]);
        const p = await createProject(db, org.id, m[2], { name: o.name, platform: o.platform });
        const key = await createProjectKey(db, p.id);
        const dsn = keyDsn(publicUrl(config), key);
        if (o.json) process.stdout.write(JSON.stringify({ id: String(p.id), slug: p.slug, organization: org.slug, dsn }) + '\n');
        else process.stdout.write(`created ${org.slug}/${p.slug}\nDSN: ${dsn}\n`);
      });
    });

  const token = program.command('token').description('manage API tokens');
  token
    .command('create')
    .description('create an API token for the web API (Authorization: Bearer)')
    .option('--org <slug>', 'organization the token is bound to (default: the first one)')
    .option('--scopes <scopes...>', `scopes (${SCOPES.join(', ')})`)
    .option('--user <email>', 'user the token acts for')
    .option('--name <name>', 'a name to recognise the token by')
    .option('--org-token', 'an organization auth token (sntrys_…) that tells sentry-cli the server URL and organization')
    .option('--url <url>', 'with --org-token: the URL sentry-cli should use (default: the public URL)')
    .option('--json', 'print JSON')
    .option('-d, --data-dir <dir>', 'data directory')
    .action(async (o) => {
      await withServices(configFrom, o, async (s) => {
        const db = s.database.db;
        const org = o.org
          ? await db.selectFrom('organizations').selectAll().where('slug', '=', o.org).executeTakeFirst()
          : await db.selectFrom('organizations').selectAll().orderBy('id').limit(1).executeTakeFirst();
        if (!org) throw new Error(o.org ? `no organization "${o.org}"` : 'no organization yet: run `faultline start` once or `faultline project create ORG/SLUG`');
        const user = o.user ? await db.selectFrom('users').select('id').where('email', '=', String(o.user).toLowerCase()).executeTakeFirst() : undefined;
        if (o.user && !user) throw new Error(`no user ${o.user}`);
        const scopes: string[] = (o.scopes ?? DEFAULT_SCOPES).flatMap((x: string) => x.split(/[\s,]+/)).filter(Boolean);
        let orgToken: { url: string; org: string } | undefined;
        if (o.orgToken) {
          const url = String(o.url ?? publicUrl(s.config)).replace(/\/+$/, '');
          // sentry-cli takes only a server root (scheme, host, port) as its URL.
          if (!/^https?:\/\/[^/?#]+$/.test(url)) throw new Error(`--url must be a server root such as https://errors.example.com, not ${url}`);
          orgToken = { url, org: org.slug };
        }
        const value = await createApiToken(db, { organizationId: org.id, userId: user?.id ?? null, scopes, name: o.name, orgToken });
        if (o.json) process.stdout.write(JSON.stringify({ token: value, organization: org.slug, scopes }) + '\n');
        else process.stdout.write(`${value}\n`);
      });
    });

  const user = program.command('user').description('manage users');
  user
    .command('create <email>')
    .description('create a user')
    .option('--password <password>', 'password (without it the user cannot log in until one is set)')
    .option('--superuser', 'make the user a superuser')
    .option('--org <slug>', 'add the user to this organization (default: the first one)')
    .option('--role <role>', 'role in the organization: member, admin, manager, owner', 'member')
    .option('-d, --data-dir <dir>', 'data directory')
    .action(async (email: string, o) => {
      await withServices(configFrom, o, async (s) => {
        const db = s.database.db;
        const u = await createUser(db, email, { password: o.password ?? null, superuser: Boolean(o.superuser) });
        const org = o.org
          ? await db.selectFrom('organizations').selectAll().where('slug', '=', o.org).executeTakeFirst()
          : await db.selectFrom('organizations').selectAll().orderBy('id').limit(1).executeTakeFirst();
        if (org) await addMember(db, org.id, u.id, o.superuser ? 'owner' : o.role);
        process.stdout.write(`created user ${u.email}${o.superuser ? ' (superuser)' : ''}${org ? ` in ${org.slug}` : ''}\n`);
      });
    });
}
