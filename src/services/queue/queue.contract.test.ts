/** Contract every queue backend passes: durable enqueue, leases, acks, retries, dead letters. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeDir, tempDataDir } from '../../../test/helpers/faultline.js';
import type { QueueBackend } from './index.js';
import { SqliteQueueBackend } from './backends/sqlite.js';

const BACKENDS: Record<string, (dir: string) => QueueBackend> = {
  sqlite: (dir) => new SqliteQueueBackend({ dataDir: dir, maxAttempts: 3 }),
};

for (const [name, make] of Object.entries(BACKENDS)) {
  describe(`queue contract: ${name}`, () => {
    let dir: string;
    let q: QueueBackend;
    beforeEach(() => {
      dir = tempDataDir();
      q = make(dir);
    });
    afterEach(async () => {
      await q.close();
      removeDir(dir);
    });

    it('delivers in order and deletes on ack', async () => {
      await q.enqueue('t', [Buffer.from('a'), Buffer.from('b'), Buffer.from('c')]);
      const got = await q.take('t', 2, 60_000);
      expect(got.map((t) => t.payload.toString())).toEqual(['a', 'b']);
      expect(got[0].attempts).toBe(1);
      await q.ack(got.map((t) => t.id));
      const rest = await q.take('t', 10, 60_000);
      expect(rest.map((t) => t.payload.toString())).toEqual(['c']);
      await q.ack(rest.map((t) => t.id));
      expect(await q.stats('t')).toEqual({ ready: 0, leased: 0, dead: 0 });
    });

    it('does not hand a leased task to a second consumer, and redelivers after the lease', async () => {
      await q.enqueue('t', [Buffer.from('x')]);
      const first = await q.take('t', 10, 200);
      expect(first).toHaveLength(1);
      expect(await q.take('t', 10, 200)).toHaveLength(0);
      await new Promise((r) => setTimeout(r, 250));
      const again = await q.take('t', 10, 200);
      expect(again.map((t) => t.payload.toString())).toEqual(['x']);
      expect(again[0].attempts).toBe(2);
    });

    it('retries a nacked task, then moves it to the dead letters', async () => {
      await q.enqueue('t', [Buffer.from('poison')]);
      for (let i = 0; i < 3; i++) {
        const [t] = await q.take('t', 1, 60_000);
        expect(t.payload.toString()).toBe('poison');
        await q.nack(t.id, `failure ${i}`, 0);
      }
      expect(await q.take('t', 1, 60_000)).toHaveLength(0);
      expect((await q.stats('t')).dead).toBe(1);
    });

    it('keeps queues apart and survives reopening', async () => {
      await q.enqueue('a', [Buffer.from('1')]);
      await q.enqueue('b', [Buffer.from('2')]);
      await q.close();
      q = make(dir);
      expect((await q.take('b', 10, 1000)).map((t) => t.payload.toString())).toEqual(['2']);
      expect((await q.take('a', 10, 1000)).map((t) => t.payload.toString())).toEqual(['1']);
    });
  });
}
