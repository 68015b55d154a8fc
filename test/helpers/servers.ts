/**
 * The real servers that scale-out backends' contract suites run against, from environment
 * variables (`.ci/run` sets them all). When one is unset, its suites are skipped on a developer's
 * machine, but fail under CI (`CI` set): a backend that silently stops being tested is worse than a
 * red build.
 */
import { randomBytes } from 'node:crypto';
import { describe, it } from 'vitest';

export type ServerVar = 'FAULTLINE_TEST_REDIS_URL' | 'FAULTLINE_TEST_AMQP_URL' | 'FAULTLINE_TEST_POSTGRES_URL' | 'FAULTLINE_TEST_MYSQL_URL';

export function serverUrl(variable: ServerVar): string | undefined {
  return process.env[variable]?.trim() || undefined;
}

/**
 * `describe` for a suite that needs a server: runs `body` with the URL, or (URL unset) registers a
 * failing test under CI and a skipped suite otherwise.
 */
export function describeWithServer(name: string, variable: ServerVar, body: (url: string) => void): void {
  const url = serverUrl(variable);
  if (url) {
    describe(name, () => body(url));
  } else if (process.env.CI) {
    describe(name, () => {
      it(`needs ${variable}`, () => {
        throw new Error(`${variable} is not set: CI runs every backend's contract suite against its real server (see .ci/run)`);
      });
    });
  } else {
    describe.skip(`${name} (set ${variable} to run)`, () => body(''));
  }
}

/** A prefix unique to this test run, so runs sharing a server never see each other's keys. */
export function uniquePrefix(kind: string): string {
  return `fltest:${kind}:${Date.now().toString(36)}${randomBytes(4).toString('hex')}:`;
}

/** Deletes every Redis key under `prefix` (a test run's keys). */
export async function clearRedisPrefix(url: string, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
