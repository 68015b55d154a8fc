/**
 * Runs the real `faultline` binary (built into dist/) in a temporary data directory, as a user
 * would, and talks to it over HTTP. Shared by the end-to-end suites.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin/faultline.js');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

export function tempDataDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'faultline-test-'));
}

export function cli(dataDir: string, args: string[], env: Record<string, string> = {}): string {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, FAULTLINE_DATA_DIR: dataDir, FAULTLINE_LOG_LEVEL: 'warn', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`faultline ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

export interface RunningServer {
  url: string;
  port: number;
  dataDir: string;
  child: ChildProcess;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startFaultline(
  opts: { dataDir?: string; port?: number; env?: Record<string, string>; command?: string; http?: boolean } = {},
): Promise<RunningServer> {
  const dataDir = opts.dataDir ?? tempDataDir();
  const port = opts.port ?? (await freePort());
  let out = '';
  const child = spawn(process.execPath, [BIN, opts.command ?? 'start', '--port', String(port)], {
    env: {
      ...process.env,
      FAULTLINE_DATA_DIR: dataDir,
      FAULTLINE_HOST: '127.0.0.1',
      FAULTLINE_LOG_LEVEL: 'warn',
      FAULTLINE_ADMIN_PASSWORD: 'test-password-1',
      // Roles without HTTP announce themselves at info level.
      ...(opts.http === false ? { FAULTLINE_LOG_LEVEL: 'info' } : {}),
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`faultline exited early: ${out}`);
    if (opts.http === false) {
      // Roles without HTTP (worker, scheduler) say when they run.
      if (out.includes('faultline running')) break;
    } else {
      try {
        const r = await fetch(`${url}/_health/`);
        if (r.ok) break;
      } catch {
        /* not listening yet */
      }
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`faultline did not become healthy: ${out}`);
    }
    await sleep(100);
  }
  return {
    url,
    port,
    dataDir,
    child,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value, or fails after `timeoutMs`. */
export async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(100);
  }
}

export interface ApiClient {
  get<T = any>(p: string): Promise<T>;
  request(method: string, p: string, body?: unknown): Promise<Response>;
}

export function apiClient(baseUrl: string, token: string): ApiClient {
  const request = (method: string, p: string, body?: unknown) =>
    fetch(`${baseUrl}${p}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return {
    request,
    async get<T = any>(p: string): Promise<T> {
      const r = await request('GET', p);
      if (!r.ok) throw new Error(`GET ${p}: ${r.status} ${await r.text()}`);
      return (await r.json()) as T;
    },
  };
}

/** A project with its DSN and a token bound to its organization, made with the real CLI. */
export function createProject(dataDir: string, orgSlash: string): { id: string; slug: string; organization: string; dsn: string } {
  return JSON.parse(cli(dataDir, ['project', 'create', orgSlash, '--json']));
}

export function createToken(dataDir: string, org: string): string {
  return JSON.parse(cli(dataDir, ['token', 'create', '--org', org, '--json'])).token;
}

/** The DSN pointed at a given server (the CLI prints it for the configured port). */
export function dsnFor(dsn: string, server: RunningServer): string {
  const u = new URL(dsn);
  u.host = `127.0.0.1:${server.port}`;
  return u.toString().replace(/\/$/, '');
}

/**
 * One running server for a test file: started before its tests, stopped and removed after.
 * Returns a getter, since the server exists only once `beforeAll` has run.
 */
export function serverForSuite(opts: Parameters<typeof startFaultline>[0] = {}): () => RunningServer {
  let server: RunningServer | undefined;
  beforeAll(async () => {
    server = await startFaultline(opts);
  });
  afterAll(async () => {
    await server?.stop();
    if (server) removeDir(server.dataDir);
  });
  return () => server!;
}

/** Runs a real SDK client script (test/clients) against `dsn`; returns the event ids it printed last. */
export function runSdkClient(cmd: string, args: string[], dsn: string): string[] {
  const r = spawnSync(cmd, args, { cwd: ROOT, env: { ...process.env, FAULTLINE_DSN: dsn }, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!).ids;
}
