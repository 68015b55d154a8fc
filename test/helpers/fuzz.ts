/**
 * The fuzzer's input generator: mutations of real client captures, from a seeded PRNG so a run
 * replays exactly. Used by test/e2e/fuzz.test.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { ROOT } from './faultline.js';
import { loadCaptures } from './replay.js';

/** mulberry32: a tiny seeded PRNG, so every run sends the same inputs. */
export function prng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seeds(): { body: Buffer; store: boolean }[] {
  const out: { body: Buffer; store: boolean }[] = [];
  for (const name of ['node-exception', 'node-message', 'node-session-http', 'node-transaction', 'python-exception', 'python-transaction', 'sentry-cli-send-event']) {
    for (const c of loadCaptures(name)) {
      if (!/\/api\/\d+\/(envelope|store)\//.test(c.url)) continue;
      const text = c.body ?? Buffer.from(c.rawBase64, 'base64').toString();
      out.push({ body: Buffer.from(text), store: c.url.includes('/store/') });
    }
  }
  for (const f of ['develop-envelope-two-items.bin', 'develop-envelope-non-event-items.envelope', 'sentry-cli-fixture-envelope.dat']) {
    out.push({ body: readFileSync(path.join(ROOT, 'test/fixtures/payloads', f)), store: false });
  }
  return out;
}

export type Mutated = { body: Buffer; store: boolean; encoding?: string; kind: string };

export function mutate(rand: () => number, seed: { body: Buffer; store: boolean }, i: number): Mutated {
  const b = Buffer.from(seed.body);
  const pick = Math.floor(rand() * 12);
  const pos = () => Math.floor(rand() * Math.max(1, b.length));
  // Give envelopes a fresh event id so "stored" can be checked per request.
  const fresh = (buf: Buffer) => Buffer.from(buf.toString('latin1').replace(/"event_id":"[0-9a-f-]{32,36}"/g, `"event_id":"${i.toString(16).padStart(32, '0')}"`), 'latin1');
  switch (pick) {
    case 0:
      return { body: fresh(b).subarray(0, pos()), store: seed.store, kind: 'truncate' };
    case 1: {
      const m = fresh(b);
      for (let k = 0; k < 1 + rand() * 8; k++) m[pos() % m.length] ^= 1 << Math.floor(rand() * 8);
      return { body: m, store: seed.store, kind: 'bitflip' };
    }
    case 2:
      return { body: Buffer.from(fresh(b).toString('latin1').replace(/"length":\d+/, `"length":${Math.floor(rand() * 100000)}`), 'latin1'), store: seed.store, kind: 'length' };
    case 3:
      return { body: Buffer.concat([Buffer.from([0xff, 0xfe, 0xc3, 0x28]), fresh(b)]), store: seed.store, kind: 'bad-utf8' };
    case 4: {
      const depth = 50 + Math.floor(rand() * 5000);
      const nested = '['.repeat(depth) + ']'.repeat(depth);
      const ev = `{"event_id":"${i.toString(16).padStart(32, '0')}","message":"deep","extra":{"x":${nested}}}`;
      return seed.store ? { body: Buffer.from(ev), store: true, kind: 'deep' } : { body: Buffer.from(`{"event_id":"${i.toString(16).padStart(32, '0')}"}\n{"type":"event"}\n${ev}\n`), store: false, kind: 'deep' };
    }
    case 5: {
      if (rand() < 0.5) return { body: fresh(b), store: seed.store, kind: 'valid' };
      const ev = `{"event_id":"${i.toString(16).padStart(32, '0')}","message":"${'A'.repeat(100_000 + Math.floor(rand() * 300_000))}","tags":{"${'k'.repeat(500)}":"${'v'.repeat(5000)}"}}`;
      return { body: Buffer.from(`{"event_id":"${i.toString(16).padStart(32, '0')}"}\n{"type":"event"}\n${ev}\n`), store: false, kind: 'huge' };
    }
    case 6:
      return { body: gzipSync(fresh(b)), store: seed.store, encoding: 'gzip', kind: 'gzip' };
    case 7: {
      const z = gzipSync(fresh(b));
      z[pos() % z.length] ^= 0xff;
      return { body: z, store: seed.store, encoding: rand() < 0.5 ? 'gzip' : 'deflate', kind: 'bad-gzip' };
    }
    case 8:
      return { body: fresh(b), store: seed.store, encoding: ['br', 'zstd', 'deflate', 'x-gzip'][Math.floor(rand() * 4)], kind: 'wrong-encoding' };
    case 9:
      return { body: rand() < 0.5 ? deflateSync(fresh(b)) : brotliCompressSync(fresh(b)), store: seed.store, encoding: undefined, kind: 'unlabelled-compressed' };
    case 10: {
      const lines = fresh(b).toString('latin1').split('\n');
      for (let k = lines.length - 1; k > 0; k--) {
        const j = Math.floor(rand() * (k + 1));
        [lines[k], lines[j]] = [lines[j], lines[k]];
      }
      return { body: Buffer.from(lines.join('\n'), 'latin1'), store: seed.store, kind: 'shuffle' };
    }
    default:
      return { body: fresh(b), store: seed.store, kind: 'valid' };
  }
}

