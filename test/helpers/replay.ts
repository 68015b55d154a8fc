/** Replays requests recorded from real clients (test/fixtures/captures) byte for byte. */
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './faultline.js';

export interface Capture {
  seq: number;
  method: string;
  url: string;
  headers: [string, string][];
  rawBase64: string;
  body: string | null;
  contentEncoding: string | null;
}

export function loadCaptures(name: string): Capture[] {
  return readFileSync(path.join(ROOT, 'test/fixtures/captures', `${name}.jsonl`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends exact bytes with exact headers (Host replaced), keeping chunked transfer when recorded. */
export function sendRaw(port: number, method: string, url: string, headers: [string, string][], body: Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const h: Record<string, string> = {};
    for (const [k, v] of headers) if (k.toLowerCase() !== 'host') h[k] = v;
    const req = request({ host: '127.0.0.1', port, method, path: url, headers: h }, (res) => {
      let data = '';
      res.on('data', (d) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export function replay(port: number, c: Capture): Promise<RawResponse> {
  return sendRaw(port, c.method, c.url, c.headers, Buffer.from(c.rawBase64, 'base64'));
}
