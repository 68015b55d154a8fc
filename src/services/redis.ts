/**
 * What every Redis-backed service shares: opening a connection from a URL, and running Lua scripts
 * by their SHA (EVALSHA, falling back to EVAL once when the server has not seen the script, e.g.
 * after a restart or SCRIPT FLUSH).
 *
 * Left out: Redis Cluster and Sentinel. The scripts pass every key they touch in KEYS, so cluster
 * support is a matter of hash tags, but it is not tested. Backends take an open client, so one
 * connection can serve the buffer, tsdb, cache and quotas of a process; the queue opens its own.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';

export type { Redis } from 'ioredis';

/**
 * Opens a client; rejects (instead of retrying forever) when the server cannot be reached.
 * Connection errors while running go to `onError` (ioredis reconnects by itself, and the commands
 * that fail meanwhile reject); without a listener, ioredis prints every one of them.
 */
export async function connectRedis(url: string, onError: (err: Error) => void = () => {}): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    // A command fails after a few reconnect attempts instead of queueing without bound: a worker
    // then nacks and retries, rather than stalling silently while Redis is down.
    maxRetriesPerRequest: 3,
    connectTimeout: 5_000,
  });
  redis.on('error', onError);
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new Error(`cannot connect to Redis at ${redactUrl(url)}: ${(err as Error).message}`, { cause: err });
  }
  return redis;
}

/** Closes a client politely (QUIT), or drops it when the connection is already gone. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}

/** A URL without its password, for error messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

/** A Lua script run atomically by Redis: no other command runs between its steps. */
export class LuaScript {
  readonly #source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  /** Runs the script; replies are strings (numbers stay integers). */
  async run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!isNoScript(err)) throw err;
      return redis.eval(this.#source, keys.length, ...keys, ...args);
    }
  }

  /** Runs the script; bulk replies are Buffers (for binary payloads). */
  async runBuffer(redis: Redis, keys: string[], args: (string | number | Buffer)[]): Promise<unknown> {
    try {
      return await redis.callBuffer('EVALSHA', [this.#sha, keys.length, ...keys, ...args]);
    } catch (err) {
      if (!isNoScript(err)) throw err;
      return redis.callBuffer('EVAL', [this.#source, keys.length, ...keys, ...args]);
    }
  }
}

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}
