/**
 * `bench --profile-worker --sql --layout postgres-redis`: what PostgreSQL spent executing each of
 * the worker's statements, read from `pg_stat_statements` for the bench's database alone. The
 * extension must be loaded by the server (`shared_preload_libraries`), which takes a restart, so
 * the benchmark never turns it on by itself; it says how when it is missing.
 */
import pg from 'pg';

export interface PgStatement {
  query: string;
  calls: number;
  /** Execution time in all (ms), planning aside. */
  ms: number;
}

const HOW_TO_LOAD =
  "--sql on PostgreSQL reads pg_stat_statements, which the server loads only at start: run ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements' as a superuser and restart PostgreSQL (ALTER SYSTEM RESET shared_preload_libraries and a restart undo it)";

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Makes the extension's view in the bench's database and forgets what it counted there so far. */
export async function startPgStatements(url: string): Promise<void> {
  await withClient(url, async (c) => {
    const loaded = await c.query<{ v: string }>(`select current_setting('shared_preload_libraries') as v`);
    if (!loaded.rows[0].v.split(',').some((lib) => lib.trim() === 'pg_stat_statements')) throw new Error(HOW_TO_LOAD);
    await c.query('create extension if not exists pg_stat_statements');
    await c.query('select pg_stat_statements_reset(0, (select oid from pg_database where datname = current_database()), 0)');
  });
}

/** The bench database's statements, most execution time first. */
export async function readPgStatements(url: string): Promise<PgStatement[]> {
  return withClient(url, async (c) => {
    const r = await c.query<{ query: string; calls: string; ms: number }>(
      `select query, calls, total_exec_time as ms from pg_stat_statements
       where dbid = (select oid from pg_database where datname = current_database()) order by total_exec_time desc`,
    );
    return r.rows.map((row) => ({ query: row.query.replace(/\s+/g, ' ').trim(), calls: Number(row.calls), ms: Number(row.ms) }));
  });
}

/** Lines for the report: the total and the top statements, each per event. */
export function formatPgStatements(statements: PgStatement[], events: number, top = 20): string[] {
  const total = statements.reduce((n, s) => n + s.ms, 0);
  const perEvent = (ms: number) => ((ms * 1000) / events).toFixed(1);
  return [
    `  PostgreSQL statements (pg_stat_statements, execution time; the buffer's flush runs in the scheduler, not here): ${total.toFixed(0)} ms in all, ${perEvent(total)} µs per event`,
    ...statements.slice(0, top).map((s) => `${s.ms.toFixed(0).padStart(7)} ms ${perEvent(s.ms).padStart(6)} µs/event ${String(s.calls).padStart(7)}×  ${s.query.slice(0, 160)}`),
  ];
}
