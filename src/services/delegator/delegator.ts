/**
 * The Service Delegator: one object that looks exactly like a service (a Proxy over its backends),
 * answers every call from the primary backend, and sends the same call to the secondary backends
 * in the background ("dark reads / writes"), as in Sentry's "Field Guide: Mitigating Risk While
 * Transitioning Databases". When every backend has answered or timed out, one record per backend
 * (latency, error, similarity to the primary's answer) goes to the recorder.
 *
 * The caller never waits for a secondary: the primary's promise is returned as it is, and the
 * secondaries' work (and the similarity computation) happens after it, off the caller's path.
 * Left out: replaying recorded calls (Sentry logged arguments and answers too; bodies are large,
 * so only scores and timings are kept here) and read-repair of a secondary.
 */
import { randomUUID } from 'node:crypto';
import type { CallScope, DelegatorCallRecord, DelegatorRouter } from './index.js';
import { similarity } from './similarity.js';

export interface DelegatorOptions<T extends object> {
  /** The service's name in records and settings, e.g. `nodestore`. */
  service: string;
  /** Every configured backend by name; the router says which one is primary right now. */
  backends: Record<string, T>;
  router: DelegatorRouter;
  /** Receives the records of a finished sampled call; must not throw or block. */
  record: (records: DelegatorCallRecord[]) => void;
  /** How long a secondary may take before it is recorded as `timeout` (ms). */
  timeoutMs?: number;
  /**
   * Methods that change data. They go to every secondary on every call, sampled or not, so a
   * shadow backend stays complete (a migration's dual-write); sampling only decides whether they
   * are recorded. Reads go to secondaries only when sampled.
   */
  writeMethods?: readonly string[];
  /** The organization / project a call touches, for sampling by tenant and for the records. */
  scopeOf?: (method: string, args: unknown[]) => CallScope;
  /**
   * The arguments a secondary gets. Used to drop what belongs to the caller's context, such as a
   * SQL transaction that will have ended by the time a background call runs.
   */
  secondaryArgs?: (method: string, args: unknown[]) => unknown[];
  /** Sees the background work of each call, so a process can let it finish before it exits. */
  track?: (work: Promise<unknown>) => void;
}

interface Outcome {
  backend: string;
  latencyMs: number;
  error: string | null;
  value?: unknown;
}

const isThenable = (v: unknown): v is PromiseLike<unknown> => typeof (v as any)?.then === 'function';

function errorText(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.slice(0, 500);
}

/** Calls `fn` and settles to an Outcome (never rejects), giving up after `timeoutMs`. */
function measure(backend: string, fn: () => unknown, timeoutMs: number | null): Promise<Outcome> {
  const started = performance.now();
  const done = (error: string | null, value?: unknown): Outcome => ({ backend, latencyMs: performance.now() - started, error, value });
  let result: Promise<Outcome>;
  try {
    const v = fn();
    result = isThenable(v) ? Promise.resolve(v).then((x) => done(null, x), (e) => done(errorText(e))) : Promise.resolve(done(null, v));
  } catch (e) {
    result = Promise.resolve(done(errorText(e)));
  }
  if (timeoutMs === null) return result;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve(done('timeout')), timeoutMs);
    timer.unref?.();
  });
  return Promise.race([result, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Wraps `backends` in one object of the service's type. Non-function properties are read from the
 * current primary; every method call goes through the delegation described above.
 */
export function createDelegator<T extends object>(opts: DelegatorOptions<T>): T {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const writes = new Set(opts.writeMethods ?? []);
  const current = () => {
    const name = opts.router.primary(opts.service);
    const backend = opts.backends[name];
    if (!backend) throw new Error(`delegator: ${opts.service} has no backend "${name}"`);
    return { name, backend };
  };

  const call = (method: string, args: unknown[]): unknown => {
    const { name: primaryName, backend: primary } = current();
    const scope = opts.scopeOf?.(method, args) ?? {};
    const sampled = opts.router.sampled(opts.service, scope);
    const shadows = sampled || writes.has(method) ? opts.router.secondaries(opts.service).filter((n) => n !== primaryName && opts.backends[n]) : [];
    const fn = (primary as any)[method] as (...a: unknown[]) => unknown;
    if (shadows.length === 0 && !sampled) return fn.apply(primary, args);

    const sampledAt = Date.now();
    const started = performance.now();
    let primaryError: unknown;
    let primaryFailed = false;
    let answer: unknown;
    try {
      answer = fn.apply(primary, args);
    } catch (err) {
      primaryFailed = true;
      primaryError = err;
    }
    // Secondaries start now, concurrently with the primary, and are never awaited by the caller.
    const shadowArgs = opts.secondaryArgs?.(method, args) ?? args;
    const shadowRuns = shadows.map((n) => {
      const b = opts.backends[n] as any;
      return measure(n, () => b[method](...shadowArgs), timeoutMs);
    });
    const primaryRun: Promise<Outcome> = primaryFailed
      ? Promise.resolve({ backend: primaryName, latencyMs: performance.now() - started, error: errorText(primaryError) })
      : isThenable(answer)
        ? Promise.resolve(answer).then(
            (value) => ({ backend: primaryName, latencyMs: performance.now() - started, error: null, value }),
            (e) => ({ backend: primaryName, latencyMs: performance.now() - started, error: errorText(e) }),
          )
        : Promise.resolve({ backend: primaryName, latencyMs: performance.now() - started, error: null, value: answer });

    if (!sampled) opts.track?.(Promise.all(shadowRuns));
    else {
      const work = Promise.all([primaryRun, ...shadowRuns]).then(([p, ...rest]) => new Promise<void>((resolve) => {
        // Comparing bodies costs CPU; do it on a later turn, after the caller has its answer.
        setImmediate(() => {
          const callId = randomUUID();
          const base = { callId, service: opts.service, method, sampledAt, organizationId: scope.organizationId ?? null, projectId: scope.projectId ?? null };
          const records: DelegatorCallRecord[] = [{ ...base, backend: p.backend, role: 'primary', latencyMs: p.latencyMs, error: p.error, similarity: p.error ? null : 1 }];
          for (const s of rest) {
            let sim: number | null = null;
            if (!p.error && !s.error) {
              try {
                sim = similarity(p.value, s.value);
              } catch {
                sim = null;
              }
            }
            records.push({ ...base, backend: s.backend, role: 'secondary', latencyMs: s.latencyMs, error: s.error, similarity: sim });
          }
          opts.record(records);
          resolve();
        });
      }));
      opts.track?.(work);
    }
    if (primaryFailed) throw primaryError;
    return answer;
  };

  return new Proxy({} as T, {
    get(_target, prop) {
      const { backend } = current();
      const v = (backend as any)[prop];
      if (typeof v !== 'function' || typeof prop !== 'string') return v;
      return (...args: unknown[]) => call(prop, args);
    },
    has(_target, prop) {
      return prop in current().backend;
    },
  });
}
