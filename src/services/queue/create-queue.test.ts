/** `createQueue` picks the backend from the queue URL, and refuses a URL it cannot serve. */
import { describe, expect, it } from 'vitest';
import { removeDir, tempDataDir } from '../../../test/helpers/faultline.js';
import { serverUrl } from '../../../test/helpers/servers.js';
import { createQueue } from './index.js';

describe('createQueue', () => {
  // The last column: a broker holding payloads in memory (ingest compresses for it by default).
  const cases: [string, string | undefined, string, boolean][] = [
    ['unset', undefined, 'SqliteQueueBackend', false],
    ['sqlite:', 'sqlite:', 'SqliteQueueBackend', false],
    ['redis://', serverUrl('FAULTLINE_TEST_REDIS_URL'), 'RedisStreamsQueueBackend', true],
    ['amqp://', serverUrl('FAULTLINE_TEST_AMQP_URL'), 'RabbitMqQueueBackend', true],
  ];
  for (const [what, queueUrl, backend, broker] of cases) {
    // The server-backed choices need their server; their contract suites report a missing URL.
    it.runIf(what === 'unset' || queueUrl)(`opens ${backend} for ${what}`, async () => {
      const dataDir = tempDataDir();
      const q = await createQueue({ dataDir, maxAttempts: 3, queueUrl });
      try {
        expect(q.constructor.name).toBe(backend);
        expect(q.broker).toBe(broker);
      } finally {
        await q.close();
        removeDir(dataDir);
      }
    });
  }

  it('refuses an unknown scheme, and says which ones work', async () => {
    await expect(createQueue({ dataDir: ':memory:', maxAttempts: 3, queueUrl: 'kafka://broker:9092' })).rejects.toThrow(
      /unsupported queue URL scheme "kafka:".*redis:\/\/.*amqp:\/\//,
    );
  });

  it('names the server it cannot reach', async () => {
    await expect(createQueue({ dataDir: ':memory:', maxAttempts: 3, queueUrl: 'redis://:secret@127.0.0.1:1' })).rejects.toThrow(
      /cannot connect to Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1/,
    );
  });
});
