/**
 * A scheduled job: a name (also its lease name), how often it runs, and how long its lease lasts.
 * Jobs are small classes so each declares its own cadence (outline's BaseTask habit).
 */
import type { Services } from '../services/index.js';

export abstract class ScheduledTask {
  abstract readonly name: string;
  /** Time between runs (ms). */
  abstract readonly intervalMs: number;
  /** Longest a run may take before another process may start one (ms). */
  readonly leaseMs: number = 60_000;
  /** False when this installation does not need the job (e.g. nothing is buffered outside SQL). */
  enabled(_services: Services): boolean {
    return true;
  }
  abstract run(services: Services): Promise<void>;
}
