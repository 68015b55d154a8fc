/**
 * The delegator service: runs secondary backends beside a service's primary, compares every
 * answer and its latency, and lets an operator switch the primary at run time (Sentry's Service
 * Delegator, "Field Guide: Mitigating Risk While Transitioning Databases", seeds/001).
 *
 * Pieces: `createDelegator` (the Proxy, delegator.ts), `similarity` (similarity.ts), the router
 * whose settings live in SQL so every process follows a switch within seconds (control.ts), the
 * call log through the durable queue into `delegator_calls` (recorder.ts) and the report that
 * summarizes it (report.ts). Left out: shadowing services other than the nodestore by config
 * (the Proxy works for any interface; only the nodestore is wired in src/services/index.ts).
 */

/** The tenant a call touches, when the arguments say so; used for sampling and the records. */
export interface CallScope {
  organizationId?: number | null;
  projectId?: number | null;
}

/** One backend's part of one delegated call: what `delegator_calls` stores per row. */
export interface DelegatorCallRecord {
  /** Shared by the records of one call, so a secondary's latency can be set against the primary's. */
  callId: string;
  service: string;
  method: string;
  backend: string;
  role: 'primary' | 'secondary';
  latencyMs: number;
  /** The error text, `timeout` when a secondary took longer than the per-call timeout, else null. */
  error: string | null;
  /** 0..1 against the primary's answer; 1 for the primary itself; null when either side failed. */
  similarity: number | null;
  /** When the call started (epoch ms). */
  sampledAt: number;
  organizationId: number | null;
  projectId: number | null;
}

/** Decides, per call, which backend answers, which ones shadow it, and whether the call is recorded. */
export interface DelegatorRouter {
  /** The backend whose answer callers get. */
  primary(service: string): string;
  /** The backends that receive the same calls in the background (the primary is skipped if listed). */
  secondaries(service: string): string[];
  /** Whether this call is compared and recorded (reads are only shadowed when sampled). */
  sampled(service: string, scope: CallScope): boolean;
}

/** The run-time settings of one delegated service, as stored in `delegator_settings`. */
export interface DelegatorSettings {
  primary: string;
  secondaries: string[];
  /** Share of calls compared and recorded, 0..1 (ignored when organizations or projects are set). */
  sampleRate: number;
  /** Only calls touching these organizations are sampled (empty: no filter). */
  organizations: number[];
  /** Only calls touching these projects are sampled (empty: no filter). */
  projects: number[];
}

export { createDelegator, type DelegatorOptions } from './delegator.js';
export { similarity } from './similarity.js';
export { DelegatorControl, readSettings, writeSettings, type SettingsPatch } from './control.js';
export { DelegatorRecorder, drainDelegatorCalls, DELEGATOR_QUEUE } from './recorder.js';
export { buildReport, formatReport, parseDuration, type DelegatorReport } from './report.js';
