/**
 * The docs and the code must agree: every configuration variable is documented (and every
 * documented one exists), and every ingest error reason appears in docs/api.md.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_VARS, loadConfig } from '../src/config/index.js';
import { DEFAULT_BATCH_SIZE } from '../src/pipeline/worker.js';
import { PROTOCOL_ERROR_STATUS } from '../src/protocol/index.js';
import { ROOT } from './helpers/faultline.js';

const read = (f: string) => readFileSync(path.join(ROOT, f), 'utf8');

describe('docs/configuration.md', () => {
  const doc = read('docs/configuration.md');
  it('documents every FAULTLINE_* variable the code reads', () => {
    for (const name of Object.keys(ENV_VARS)) expect(doc, name).toContain(`\`${name}\``);
  });
  it('documents no variable the code does not read', () => {
    const documented = new Set([...doc.matchAll(/`(FAULTLINE_[A-Z_]+)`/g)].map((m) => m[1]));
    documented.delete('FAULTLINE_CONFIG');
    for (const name of documented) expect(Object.keys(ENV_VARS), name).toContain(name);
  });
  it('gives the defaults the code uses', () => {
    const c = loadConfig({}, {});
    expect(doc).toContain(`| \`${c.port}\` |`);
    expect(doc).toContain(`| \`${c.limits.maxEventSize}\``);
    expect(doc).toContain(`| \`${c.limits.maxEnvelopeSize}\``);
    expect(c.workerBatchSize).toBeUndefined(); // the database decides
    expect(doc).toContain(`| \`${DEFAULT_BATCH_SIZE.sqlite}\` on SQLite and PostgreSQL, \`${DEFAULT_BATCH_SIZE.mysql}\` on MySQL |`);
    expect(DEFAULT_BATCH_SIZE.postgres).toBe(DEFAULT_BATCH_SIZE.sqlite);
  });
  it('rejects invalid values with a message naming the option', () => {
    expect(() => loadConfig({}, { FAULTLINE_PORT: 'ninety' })).toThrow(/port/);
  });
});

describe('docs/api.md', () => {
  it('lists every ingest error reason with its status', () => {
    const doc = read('docs/api.md');
    for (const [reason, status] of Object.entries(PROTOCOL_ERROR_STATUS)) {
      expect(doc, reason).toContain(`\`${reason}\``);
      const line = doc.split('\n').find((l) => l.includes(`\`${reason}\``))!;
      expect(line.startsWith(`| ${status} `), `${reason} should be listed under ${status}`).toBe(true);
    }
  });
});
