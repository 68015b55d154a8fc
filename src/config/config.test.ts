import { describe, expect, test } from 'vitest';
import type { Services } from '../services/index.js';
import { DEFAULT_TASKS } from '../tasks/scheduler.js';
import { compressesQueue, loadConfig } from './index.js';

describe('FAULTLINE_QUEUE_COMPRESSION', () => {
  const setting = (env: Record<string, string>) => loadConfig({}, env).queueCompression;
  const broker = { broker: true };
  const embedded = { broker: false };

  test('auto, the default, compresses on a broker queue and not on the embedded one', () => {
    expect(setting({})).toBe('auto');
    expect(compressesQueue('auto', broker)).toBe(true);
    expect(compressesQueue('auto', embedded)).toBe(false);
  });

  test('on and off override the kind of queue', () => {
    expect(compressesQueue(setting({ FAULTLINE_QUEUE_COMPRESSION: 'on' }), embedded)).toBe(true);
    expect(compressesQueue(setting({ FAULTLINE_QUEUE_COMPRESSION: 'off' }), broker)).toBe(false);
    expect(() => loadConfig({}, { FAULTLINE_QUEUE_COMPRESSION: 'yes' })).toThrow(/queueCompression/);
  });
});

describe('FAULTLINE_BUFFER_FLUSH_MS', () => {
  test('sets how often the scheduler flushes the Redis buffer (1 s unless set)', () => {
    const flushEvery = (env: Record<string, string>) => {
      const config = loadConfig({}, env);
      return DEFAULT_TASKS({ config } as Services).find((t) => t.name === 'buffer-flush')!.intervalMs;
    };
    expect(flushEvery({})).toBe(1_000);
    expect(flushEvery({ FAULTLINE_BUFFER_FLUSH_MS: '10000' })).toBe(10_000);
    expect(() => loadConfig({}, { FAULTLINE_BUFFER_FLUSH_MS: '0' })).toThrow(/bufferFlushMs/);
  });
});
