/**
 * Event body ids: time-ordered, so a batch's bodies go to the end of the id index, and bodies
 * saved under the earlier ids (`e:<project>:<event id>`) are still read and deleted. On SQLite;
 * ids are opaque to every backend, whose contract suite runs elsewhere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServices, type TestServices } from '../../../test/helpers/services.js';
import { eventNodeId, eventNodeIds, getEventBodies, legacyEventNodeId, type EventRef } from './index.js';

describe('event body ids', () => {
  let s: TestServices;
  beforeAll(async () => {
    s = await testServices();
  });
  afterAll(() => s.cleanup());

  it('sort by the time the event was received, whatever its event id', () => {
    const earlier = eventNodeId(7, 'f'.repeat(32), Date.UTC(2026, 0, 1));
    const later = eventNodeId(7, '0'.repeat(32), Date.UTC(2026, 0, 1) + 1);
    expect(earlier < later).toBe(true);
    // Eleven hex digits of milliseconds reach past the year 2500; twelve keep the order fixed-width.
    expect(eventNodeId(7, 'a'.repeat(32), 0)).toBe(`e:7:000000000000:${'a'.repeat(32)}`);
    expect(earlier.startsWith('e:7:')).toBe(true); // the project stays first (the delegator scopes by it)
  });

  it('reads bodies under either id, in the order asked, and deletes both', async () => {
    const received = Date.now();
    const refs: EventRef[] = [
      { project_id: 3, event_id: 'a'.repeat(32), received },
      { project_id: 3, event_id: 'b'.repeat(32), received: String(received + 5) }, // PostgreSQL returns bigint as text
      { project_id: 3, event_id: 'c'.repeat(32), received },
    ];
    await s.nodestore.setMulti([
      { id: legacyEventNodeId(3, 'a'.repeat(32)), data: { message: 'saved by an earlier release' }, timestamp: received },
      { id: eventNodeId(3, 'b'.repeat(32), received + 5), data: { message: 'saved now' }, timestamp: received },
    ]);
    const bodies = await getEventBodies(s.nodestore, refs);
    expect(bodies.map((b) => b?.message ?? null)).toEqual(['saved by an earlier release', 'saved now', null]);
    expect(await getEventBodies(s.nodestore, [])).toEqual([]);

    await s.nodestore.delete(eventNodeIds(refs));
    expect(await getEventBodies(s.nodestore, refs)).toEqual([null, null, null]);
  });
});
