/**
 * Alert mail over SMTP with nodemailer: a plain-text and an HTML body (every value HTML-escaped —
 * titles come from event payloads, i.e. from anyone holding a DSN) linking to each issue.
 * Recipients follow Sentry's NotifyEmailAction targets: a Member (user id), a Team (its members),
 * or IssueOwners, which without ownership rules falls back to all members of the organization
 * (Sentry's "fallthrough" to active members).
 * Left out: per-user notification settings and reply-by-mail.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import type { Services } from '../services/index.js';
import { A } from '../alerts/rules.js';
import { subjectOf, type NotifyMessage } from './message.js';

const transports = new Map<string, Transporter>();

function transport(url: string): Transporter {
  let t = transports.get(url);
  if (!t) transports.set(url, (t = nodemailer.createTransport(url)));
  return t;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function renderEmail(m: NotifyMessage): { subject: string; text: string; html: string } {
  const intro = m.digest
    ? `${m.issues.length} alerts from rule "${m.rule.name}" in ${m.project.slug}:`
    : `Alert rule "${m.rule.name}" fired in ${m.project.slug}.`;
  const text = [intro, '', ...m.issues.map((i) => `${i.shortId}  ${i.title}\n  ${i.culprit}\n  ${i.count} events, ${i.userCount} users\n  ${i.url}\n`)].join('\n');
  const rows = m.issues
    .map((i) => `<li><a href="${escapeHtml(i.url)}"><strong>${escapeHtml(i.shortId)}</strong> ${escapeHtml(i.title)}</a><br><small>${escapeHtml(i.culprit)} · ${i.count} events · ${i.userCount} users</small></li>`)
    .join('\n');
  const html = `<!doctype html><html><body><p>${escapeHtml(intro)}</p><ul>\n${rows}\n</ul></body></html>`;
  return { subject: subjectOf(m), text, html };
}

async function recipients(services: Services, m: NotifyMessage): Promise<string[]> {
  const db = services.database.db;
  if (m.action.id !== A.email) return [];
  const target = m.action.targetIdentifier;
  let q = db.selectFrom('users').innerJoin('organization_members as om', 'om.user_id', 'users.id').select('users.email').where('om.organization_id', '=', m.organization.id);
  if (m.action.targetType === 'Member') q = q.where('users.id', '=', Number(target));
  if (m.action.targetType === 'Team') {
    q = q.where('users.id', 'in', db.selectFrom('team_members').innerJoin('teams', 'teams.id', 'team_members.team_id').select('team_members.user_id').where('teams.id', '=', Number(target)).where('teams.organization_id', '=', m.organization.id));
  }
  return [...new Set((await q.execute()).map((r) => r.email))];
}

export async function sendEmail(services: Services, m: NotifyMessage): Promise<void> {
  const url = services.config.smtpUrl;
  if (!url) throw new Error('no SMTP server configured (FAULTLINE_SMTP_URL)');
  const to = await recipients(services, m);
  if (to.length === 0) return;
  const { subject, text, html } = renderEmail(m);
  await transport(url).sendMail({ from: services.config.emailFrom, to, subject, text, html });
}
