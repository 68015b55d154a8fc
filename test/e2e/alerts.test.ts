/**
 * Triage and alerts end to end, with real events through the ingest path: alert rules mail a real
 * SMTP server (smtp-server on 127.0.0.1), sign webhooks a local receiver verifies, and a receiver
 * that fails once proves the notify queue retries; regressions respect "resolved in release";
 * frequency rules fire once per `frequency`; ignore-until-count comes back as escalating; merge,
 * notes and delete-and-discard (outcome `discarded_hash`).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, cli, createProject, removeDir, sleep, startFaultline, waitFor, type ApiClient, type RunningServer } from '../helpers/faultline.js';

const SECRET = 'rule-secret';
const mails: { to: string; raw: string }[] = [];
const hooks: { path: string; body: string; signature: string | undefined }[] = [];
let flakyCalls = 0;
let smtp: SMTPServer;
let http: Server;
let server: RunningServer;
let api: ApiClient;
let project: { id: string; slug: string; dsn: string };
let hookBase = '';

async function listen(srv: { listen: (port: number, host: string, cb: () => void) => unknown; address?: () => unknown }, s: any): Promise<number> {
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return (s.server ? s.server.address() : s.address() as AddressInfo).port;
}

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    onData(stream, session, cb) {
      let raw = '';
      stream.on('data', (d) => (raw += d));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address).join(','), raw });
        cb();
      });
    },
  });
  const smtpPort = await listen(smtp, smtp);
  http = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.url === '/flaky' && flakyCalls++ === 0) {
        res.statusCode = 503;
        return res.end('down');
      }
      hooks.push({ path: req.url ?? '', body, signature: req.headers['x-faultline-signature'] as string | undefined });
      res.end('ok');
    });
  });
  hookBase = `http://127.0.0.1:${await listen(http, http)}`;
  server = await startFaultline({
    env: { FAULTLINE_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, FAULTLINE_EMAIL_FROM: 'alerts@faultline.test', FAULTLINE_NOTIFY_RETRY_MS: '300' },
  });
  const dataDir = server.dataDir;
  project = createProject(dataDir, 'faultline/alerts');
  const token = JSON.parse(cli(dataDir, ['token', 'create', '--org', 'faultline', '--user', 'admin@localhost', '--json'])).token;
  api = apiClient(server.url, token);
});

afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
  smtp?.close();
  http?.close();
});

async function send(fingerprint: string, release: string, extra: Record<string, unknown> = {}): Promise<string> {
  const eventId = randomUUID().replace(/-/g, '');
  const key = new URL(project.dsn).username;
  const event = { event_id: eventId, timestamp: Date.now() / 1000, platform: 'node', level: 'error', release, fingerprint: [fingerprint], message: `boom <${fingerprint}>`, ...extra };
  const body = `${JSON.stringify({ event_id: eventId })}\n${JSON.stringify({ type: 'event' })}\n${JSON.stringify(event)}\n`;
  const r = await fetch(`${server.url}/api/${project.id}/envelope/?sentry_key=${key}`, { method: 'POST', body });
  expect(r.status).toBe(200);
  return eventId;
}

const P = () => `/api/0/projects/faultline/${project.slug}`;
async function issueOf(eventId: string): Promise<any> {
  const ev = await waitFor(async () => {
    const r = await api.request('GET', `${P()}/events/${eventId}/`);
    return r.ok ? r.json() : null;
  }, 20_000, `event ${eventId}`);
  return api.get(`/api/0/issues/${(ev as any).groupID}/`);
}
const put = async (p: string, body: unknown) => {
  const r = await api.request('PUT', p, body);
  expect(r.status, await r.clone().text()).toBeLessThan(300);
  return (r.status === 204 ? null : await r.json()) as any;
};

describe('alert rules', () => {
  let issueId = '';

  it('mails, signs webhooks and posts to Slack on a new issue, once', async () => {
    const created = await api.request('POST', `${P()}/rules/`, {
      name: 'New or regressed',
      actionMatch: 'any',
      frequency: 0,
      conditions: [{ id: 'sentry.rules.conditions.first_seen_event.FirstSeenEventCondition' }, { id: 'sentry.rules.conditions.regression_event.RegressionEventCondition' }],
      filters: [{ id: 'sentry.rules.filters.level.LevelFilter', match: 'gte', level: 'error' }],
      actions: [
        { id: 'sentry.mail.actions.NotifyEmailAction', targetType: 'IssueOwners' },
        { id: 'sentry.rules.actions.notify_event_service.NotifyEventServiceAction', url: `${hookBase}/hook`, secret: SECRET },
        { id: 'sentry.integrations.slack.notify_action.SlackNotifyServiceAction', webhook: `${hookBase}/slack` },
      ],
    });
    expect(created.status).toBe(201);
    const rule: any = await created.json();
    expect(rule.conditions).toHaveLength(2);
    expect((await api.get(`${P()}/rules/`)).map((r: any) => r.id)).toContain(rule.id);
    const bad = await api.request('POST', `${P()}/rules/`, { name: 'x', actions: [{ id: 'nope' }] });
    expect(bad.status).toBe(400);

    const e1 = await send('alpha', 'app@1.0.0');
    issueId = (await issueOf(e1)).id;
    await waitFor(async () => mails.length >= 1 && hooks.some((h) => h.path === '/hook') && hooks.some((h) => h.path === '/slack'), 20_000, 'notifications');
    expect(mails[0].to).toBe('admin@localhost');
    expect(mails[0].raw).toContain('text/html');
    expect(mails[0].raw).toContain('&lt;alpha&gt;'); // the title is escaped in the HTML part
    expect(mails[0].raw).toContain(`/issues/${issueId}/`);
    const hook = hooks.find((h) => h.path === '/hook')!;
    expect(hook.signature).toBe(`sha256=${createHmac('sha256', SECRET).update(hook.body).digest('hex')}`);
    expect(JSON.parse(hook.body).id).toBe(issueId);
    expect(JSON.parse(hooks.find((h) => h.path === '/slack')!.body).text).toContain('boom');

    await send('alpha', 'app@1.0.0'); // not new: no second mail
    await sleep(1500);
    expect(mails).toHaveLength(1);
  });

  it('fires a frequency rule once per frequency and retries a failing webhook alone', async () => {
    const r = await api.request('POST', `${P()}/rules/`, {
      name: 'Busy',
      frequency: 60,
      conditions: [{ id: 'sentry.rules.conditions.event_frequency.EventFrequencyCondition', value: 2, interval: '1h' }],
      actions: [{ id: 'sentry.rules.actions.notify_event_service.NotifyEventServiceAction', url: `${hookBase}/flaky`, secret: SECRET }],
    });
    expect(r.status).toBe(201);
    for (let i = 0; i < 4; i++) await send('beta', 'app@1.0.0');
    await waitFor(async () => hooks.some((h) => h.path === '/flaky'), 20_000, 'flaky webhook delivered after a retry');
    await sleep(1500);
    expect(flakyCalls).toBe(2); // one 503, one success
    expect(hooks.filter((h) => h.path === '/flaky')).toHaveLength(1);
  });

  it('regresses only for releases newer than the one it was resolved in', async () => {
    await put(`/api/0/issues/${issueId}/`, { status: 'resolved', statusDetails: { inRelease: 'app@1.1.0' } });
    const resolved = await api.get(`/api/0/issues/${issueId}/`);
    expect(resolved.status).toBe('resolved');
    expect(resolved.statusDetails.inRelease).toBe('app@1.1.0');
    const older = await send('alpha', 'app@1.0.5');
    await issueOf(older);
    expect((await api.get(`/api/0/issues/${issueId}/`)).status).toBe('resolved');
    const mailsBefore = mails.length;
    const newer = await send('alpha', 'app@1.2.0');
    const reopened = await issueOf(newer);
    expect(reopened.status).toBe('unresolved');
    expect(reopened.substatus).toBe('regressed');
    const { activity } = await api.get(`/api/0/issues/${issueId}/activities/`);
    expect(activity.map((a: any) => a.type)).toEqual(expect.arrayContaining(['set_regression', 'set_resolved_in_release', 'first_seen']));
    await waitFor(async () => mails.length > mailsBefore, 20_000, 'regression mail');
  });

  it('resolved in next release: the current release keeps it resolved, a newer one reopens it', async () => {
    await put(`${P()}/issues/?id=${issueId}`, { status: 'resolvedInNextRelease' });
    await issueOf(await send('alpha', 'app@1.2.0'));
    expect((await api.get(`/api/0/issues/${issueId}/`)).status).toBe('resolved');
    expect((await issueOf(await send('alpha', 'app@1.3.0'))).status).toBe('unresolved');
  });
});

describe('triage', () => {
  it('ignores until N more events, then escalates', async () => {
    const issue = await issueOf(await send('gamma', 'app@1.0.0'));
    const reply = await put(`${P()}/issues/?id=${issue.id}`, { status: 'ignored', statusDetails: { ignoreCount: 2 } });
    expect(reply.statusDetails.ignoreCount).toBe(2);
    await issueOf(await send('gamma', 'app@1.0.0'));
    expect((await api.get(`/api/0/issues/${issue.id}/`)).status).toBe('ignored');
    await send('gamma', 'app@1.0.0');
    const back = await waitFor(async () => {
      const i = await api.get(`/api/0/issues/${issue.id}/`);
      return i.status === 'unresolved' ? i : null;
    }, 20_000, 'escalation');
    expect(back.substatus).toBe('escalating');
  });

  it('assigns, bookmarks, takes notes with mentions, merges and discards', async () => {
    const a = await issueOf(await send('delta', 'app@1.0.0'));
    const b = await issueOf(await send('epsilon', 'app@1.0.0'));
    const updated = await put(`/api/0/issues/${a.id}/`, { assignedTo: 'admin@localhost', isBookmarked: true });
    expect(updated.assignedTo).toMatchObject({ type: 'user', email: 'admin@localhost' });
    expect(updated.isBookmarked).toBe(true);
    const note = await api.request('POST', `/api/0/issues/${a.id}/comments/`, { text: 'looking, @admin@localhost' });
    expect(note.status).toBe(201);
    const noteBody: any = await note.json();
    expect(noteBody.data.mentions).toHaveLength(1);
    expect((await api.request('PUT', `/api/0/issues/${a.id}/comments/${noteBody.id}/`, { text: 'fixed it' })).status).toBe(200);
    const detail = await api.get(`/api/0/issues/${a.id}/`);
    expect(detail.numComments).toBe(1);
    expect(detail.activity.map((x: any) => x.type)).toEqual(expect.arrayContaining(['note', 'assigned']));

    const merged = await put(`${P()}/issues/?id=${a.id}&id=${b.id}`, { merge: 1 });
    const parent = merged.merge.parent;
    const kept = await api.get(`/api/0/issues/${parent}/`);
    expect(kept.count).toBe('2');
    const hashes = await api.get(`/api/0/issues/${parent}/hashes/`);
    expect(hashes).toHaveLength(2);

    expect(await put(`${P()}/issues/?id=${parent}`, { discard: true })).toBeNull();
    expect((await api.request('GET', `/api/0/issues/${parent}/`)).status).toBe(404);
    await send('delta', 'app@1.0.0');
    const db = new BetterSqlite3(path.join(server.dataDir, 'faultline.db'), { readonly: true });
    try {
      await waitFor(async () => db.prepare("SELECT quantity FROM outcomes WHERE reason = 'discarded_hash'").get(), 20_000, 'discarded outcome');
    } finally {
      db.close();
    }
  });
});
