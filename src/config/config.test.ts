import { describe, expect, test } from 'vitest';
import { compressesQueue, loadConfig } from './index.js';

describe('FAULTLINE_QUEUE_COMPRESSION', () => {
  const compresses = (env: Record<string, string>) => compressesQueue(loadConfig({}, env));

  test('auto compresses on a broker queue and not on the embedded one', () => {
    expect(compresses({})).toBe(false);
    expect(compresses({ FAULTLINE_QUEUE_URL: 'sqlite:' })).toBe(false);
    expect(compresses({ FAULTLINE_QUEUE_URL: 'redis://127.0.0.1:6379/0' })).toBe(true);
    expect(compresses({ FAULTLINE_QUEUE_URL: 'amqp://guest:guest@127.0.0.1:5672' })).toBe(true);
  });

  test('on and off override the queue kind', () => {
    expect(compresses({ FAULTLINE_QUEUE_COMPRESSION: 'on' })).toBe(true);
    expect(compresses({ FAULTLINE_QUEUE_COMPRESSION: 'off', FAULTLINE_QUEUE_URL: 'redis://127.0.0.1:6379/0' })).toBe(false);
    expect(() => loadConfig({}, { FAULTLINE_QUEUE_COMPRESSION: 'yes' })).toThrow(/queueCompression/);
  });
});
