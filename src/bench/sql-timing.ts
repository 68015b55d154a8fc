/**
 * Loaded with `node --import` into the worker that `bench --profile-worker --sql` profiles: times
 * every SQLite statement the process runs (better-sqlite3's `run`, `all`, `get`), grouped by its
 * SQL text with the values lists folded, and writes the totals to FAULTLINE_SQL_TIMING on exit.
 * A commit's time includes a checkpoint it may run (only as a backstop since checkpoints have a
 * thread of their own, db/checkpointer.ts), so the slowest commits are kept apart.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface SqlTiming {
  /** Per statement: its SQL (values lists folded to `(..)`), how often it ran, and its total ms. */
  statements: { sql: string; count: number; ms: number }[];
  /** Each commit's ms, slowest first. */
  commits: number[];
}

const file = process.env.FAULTLINE_SQL_TIMING;
if (file) {
  const Database = createRequire(import.meta.url)('better-sqlite3') as { prototype: { prepare(sql: string): Record<string, unknown> } };
  const totals = new Map<string, { count: number; ns: bigint }>();
  const commits: number[] = [];
  const fold = (sql: string) =>
    sql
      .replace(/\s+/g, ' ')
      .replace(/\(\?(, \?)*\)(, \(\?(, \?)*\))*/g, '(..)')
      .slice(0, 160);
  const prepare = Database.prototype.prepare;
  Database.prototype.prepare = function (this: unknown, sql: string) {
    const statement = prepare.call(this, sql);
    const key = fold(sql);
    const isCommit = /^\s*commit\b/i.test(sql);
    for (const method of ['run', 'all', 'get']) {
      const original = statement[method] as (...args: unknown[]) => unknown;
      statement[method] = function (this: unknown, ...args: unknown[]) {
        const started = process.hrtime.bigint();
        try {
          return original.apply(this, args);
        } finally {
          const ns = process.hrtime.bigint() - started;
          const t = totals.get(key) ?? { count: 0, ns: 0n };
          t.count++;
          t.ns += ns;
          totals.set(key, t);
          if (isCommit) commits.push(Number(ns) / 1e6);
        }
      };
    }
    return statement;
  };
  process.on('exit', () => {
    const statements = [...totals].map(([sql, t]) => ({ sql, count: t.count, ms: Number(t.ns) / 1e6 })).sort((a, b) => b.ms - a.ms);
    const out: SqlTiming = { statements, commits: commits.sort((a, b) => b - a) };
    writeFileSync(file, JSON.stringify(out));
  });
}
