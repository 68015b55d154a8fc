/**
 * The SQL dialects a contract suite runs on. SQLite always; PostgreSQL and MySQL/MariaDB when
 * FAULTLINE_TEST_POSTGRES_URL / FAULTLINE_TEST_MYSQL_URL are set (CI sets them and fails when a
 * server is missing). Each suite gets a database of its own, dropped afterwards, so test files
 * running in parallel never see each other's rows.
 */
import { randomBytes } from 'node:crypto';

export interface TestDatabase {
  /** FAULTLINE_DATABASE_URL for this database; undefined means the embedded SQLite file. */
  url: string | undefined;
  drop(): Promise<void>;
}

type Factory = () => Promise<TestDatabase>;

async function postgres(adminUrl: string): Promise<TestDatabase> {
  const pg = (await import('pg')).default;
  const name = `faultline_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      // A pool that was just ended may still be closing its connections: let them go on their own
      // first. FORCE would terminate them, and a pg client mid-close reports that as an uncaught
      // error in the suite that owned it.
      for (let i = 0; i < 50; i++) {
        const r = await c.query('SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
        if (r.rows[0].n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

async function mysql(adminUrl: string): Promise<TestDatabase> {
  const m = await import('mysql2/promise');
  const name = `faultline_test_${randomBytes(6).toString('hex')}`;
  const admin = await m.createConnection({ uri: adminUrl });
  await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = await m.createConnection({ uri: adminUrl });
      await c.query(`DROP DATABASE IF EXISTS ${name}`);
      await c.end();
    },
  };
}

/** Dialect name → factory, for `describe.each`-style loops. */
export function sqlDialects(): Record<string, Factory> {
  const out: Record<string, Factory> = { sqlite: async () => ({ url: undefined, drop: async () => {} }) };
  const pgUrl = process.env.FAULTLINE_TEST_POSTGRES_URL;
  const myUrl = process.env.FAULTLINE_TEST_MYSQL_URL;
  if (pgUrl) out.postgres = () => postgres(pgUrl);
  else if (process.env.CI) out.postgres = async () => Promise.reject(new Error('FAULTLINE_TEST_POSTGRES_URL is not set'));
  if (myUrl) out.mysql = () => mysql(myUrl);
  else if (process.env.CI) out.mysql = async () => Promise.reject(new Error('FAULTLINE_TEST_MYSQL_URL is not set'));
  return out;
}
