/**
 * Webhook delivery: a JSON POST shaped like Sentry's legacy webhook plugin payload (`project`,
 * `url`, `message`, `level`, `culprit`, `event` …) plus `issues` (all of a digest) and `rule`,
 * signed with HMAC-SHA256 over the exact body in `X-Faultline-Signature: sha256=<hex>` using the
 * action's `secret` or FAULTLINE_WEBHOOK_SECRET, so receivers can check it came from us. A non-2xx
 * answer or a timeout throws, and the notify queue retries the job with backoff.
 */
import { createHmac } from 'node:crypto';
import type { Services } from '../services/index.js';
import { A } from '../alerts/rules.js';
import type { NotifyMessage } from './message.js';

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function webhookBody(m: NotifyMessage): Record<string, unknown> {
  const first = m.issues[0];
  return {
    id: String(first.id),
    project: m.project.slug,
    project_name: m.project.name,
    project_slug: m.project.slug,
    url: first.url,
    message: first.title,
    culprit: first.culprit,
    level: first.level,
    triggering_rules: [m.rule.name],
    event: { event_id: first.eventId },
    rule: { id: String(m.rule.id), name: m.rule.name },
    digest: m.digest,
    issues: m.issues.map((i) => ({ id: String(i.id), shortId: i.shortId, title: i.title, culprit: i.culprit, level: i.level, count: i.count, userCount: i.userCount, url: i.url, eventId: i.eventId })),
  };
}

/** POSTs JSON; throws on a network error, a timeout or a non-2xx answer. */
export async function postJson(url: string, body: string, headers: Record<string, string> = {}): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'User-Agent': 'Faultline', ...headers },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  await res.arrayBuffer().catch(() => undefined);
  if (!res.ok) throw new Error(`POST ${new URL(url).host} answered ${res.status}`);
}

export async function sendWebhook(services: Services, m: NotifyMessage): Promise<void> {
  if (m.action.id !== A.webhook) return;
  const body = JSON.stringify(webhookBody(m));
  const secret = m.action.secret ?? services.config.webhookSecret;
  await postJson(m.action.url, body, secret ? { 'X-Faultline-Signature': signBody(secret, body) } : {});
}
