import { describe, expect, test } from 'vitest';
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
