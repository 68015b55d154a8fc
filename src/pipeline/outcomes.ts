/**
 * Items that never become issues (sessions, client reports, transactions, spans, logs, check-ins)
 * and events that were dropped are counted per project, hour, category, outcome and reason in the
 * `outcomes` table, so the numbers an operator needs ("how many sessions, how many dropped and
 * why") exist without storing the items. Release health from sessions is a later feature.
 */
import type { Dialect } from '../db/index.js';
import { upsert } from '../db/sql.js';
import type { Executor } from '../services/index.js';
import { bucketOf } from '../services/tsdb/index.js';
import type { IngestTask } from '../services/queue/ingest-task.js';

export interface Outcome {
  projectId: number;
  timestamp: number;
  category: string;
  outcome: 'accepted' | 'filtered' | 'rate_limited' | 'invalid' | 'client_discard';
  reason: string;
  quantity: number;
}

const CATEGORY: Record<string, string> = {
  session: 'session',
  sessions: 'session',
  transaction: 'transaction',
  span: 'span',
  log: 'log_item',
  check_in: 'monitor',
  user_report: 'user_report_v2',
  feedback: 'feedback',
};

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0;
}

/** What a non-event item counts as. Never throws: unreadable payloads count as invalid. */
export function outcomesForItem(task: IngestTask): Outcome[] {
  const base = { projectId: task.projectId, timestamp: task.receivedAt };
  let payload: any;
  try {
    payload = JSON.parse(task.payload);
  } catch {
    return [{ ...base, category: CATEGORY[task.itemType] ?? 'default', outcome: 'invalid', reason: 'invalid_json', quantity: 1 }];
  }
  switch (task.itemType) {
    case 'client_report': {
      const out: Outcome[] = [];
      for (const list of ['discarded_events', 'rate_limited_events', 'filtered_events', 'filtered_sampling_events']) {
        for (const d of Array.isArray(payload?.[list]) ? payload[list] : []) {
          if (!d || typeof d !== 'object') continue;
          out.push({
            ...base,
            category: String(d.category ?? 'default').slice(0, 32),
            outcome: 'client_discard',
            reason: String(d.reason ?? list).slice(0, 64),
            quantity: num(d.quantity),
          });
        }
      }
      return out;
    }
    case 'sessions': {
      let n = 0;
      for (const a of Array.isArray(payload?.aggregates) ? payload.aggregates : []) {
        n += num(a?.exited) + num(a?.errored) + num(a?.abnormal) + num(a?.crashed);
      }
      return [{ ...base, category: 'session', outcome: 'accepted', reason: '', quantity: n }];
    }
    case 'span':
    case 'log': {
      const n = Array.isArray(payload?.items) ? payload.items.length : 1;
      return [{ ...base, category: CATEGORY[task.itemType], outcome: 'accepted', reason: '', quantity: n }];
    }
    default:
      return [{ ...base, category: CATEGORY[task.itemType] ?? task.itemType.slice(0, 32), outcome: 'accepted', reason: '', quantity: 1 }];
  }
}

export async function saveOutcomes(executor: Executor, dialect: Dialect, outcomes: Outcome[]): Promise<void> {
  const sums = new Map<string, { project_id: number; bucket: number; category: string; outcome: string; reason: string; quantity: number }>();
  for (const o of outcomes) {
    if (o.quantity <= 0) continue;
    const bucket = bucketOf(o.timestamp, 3600);
    const k = `${o.projectId}|${bucket}|${o.category}|${o.outcome}|${o.reason}`;
    const cur = sums.get(k);
    if (cur) cur.quantity += o.quantity;
    else sums.set(k, { project_id: o.projectId, bucket, category: o.category, outcome: o.outcome, reason: o.reason, quantity: o.quantity });
  }
  for (const row of sums.values()) {
    await upsert(executor.insertInto('outcomes').values(row), dialect, 'outcomes', ['project_id', 'bucket', 'category', 'outcome', 'reason'], {
      quantity: 'add',
    }).execute();
  }
}
