/**
 * Slack through an incoming-webhook URL: one message with `text` (the fallback Slack shows in
 * notifications) and mrkdwn `blocks` linking each issue. Slack's mrkdwn needs only &, < and >
 * escaped (api.slack.com "Formatting text": escaping). Left out: the Slack app / bot-token API.
 */
import type { Services } from '../services/index.js';
import { A } from '../alerts/rules.js';
import { subjectOf, type NotifyMessage } from './message.js';
import { postJson } from './webhook.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function slackBody(m: NotifyMessage): Record<string, unknown> {
  const lines = m.issues.map((i) => `*<${i.url}|${esc(i.shortId)}>* ${esc(i.title)}\n${esc(i.culprit)} · ${i.count} events`);
  return {
    text: subjectOf(m),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${esc(m.rule.name)}* (${esc(m.project.slug)})` } },
      ...lines.slice(0, 40).map((text) => ({ type: 'section', text: { type: 'mrkdwn', text } })),
    ],
    ...(m.action.id === A.slack && m.action.channel ? { channel: m.action.channel } : {}),
  };
}

export async function sendSlack(_services: Services, m: NotifyMessage): Promise<void> {
  if (m.action.id !== A.slack) return;
  await postJson(m.action.webhook, JSON.stringify(slackBody(m)));
}
