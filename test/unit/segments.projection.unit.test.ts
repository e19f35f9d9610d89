import type { RecordedEvent } from '../../src/domain/shared/events';
import type { SegmentDefinition } from '../../src/domain/segment/segment.events';
import { parseConditionTree } from '../../src/domain/segment/condition-tree';
import type { JsonObject, TrackingEvent } from '../../src/domain/tracking/tracking.events';
import { MemoryReadModels } from '../../src/infra/projections/memory-read-models';
import {
  segmentCatalogCollection,
  segmentChangesCollection,
  segmentMembershipsCollection,
  segmentSizesCollection,
  type SegmentCatalogDocument,
  type SegmentChangeDocument,
  type SegmentMembershipDocument,
  type SegmentSizeDocument,
} from '../../src/projections/segments/segment-documents';
import { segmentsProjection } from '../../src/projections/segments/segments.projection';

const workspaceId = 'acme';
const T0 = Date.parse('2025-03-01T10:00:00.000Z');
const DAY = 24 * 60 * 60 * 1000;

class Log {
  private position = 0n;
  readonly store = new MemoryReadModels();

  event(type: string, data: object, recordedAt: number, streamId = 'x'): RecordedEvent {
    this.position += 1n;
    return {
      eventId: `e${this.position}`,
      type,
      data,
      metadata: { workspaceId, schemaVersion: 1 },
      streamId,
      revision: 0n,
      position: this.position,
      recordedAt: new Date(recordedAt),
    };
  }

  async project(...events: RecordedEvent[]): Promise<void> {
    await segmentsProjection.project(events, this.store);
  }

  track(userId: string, event: string, properties: JsonObject, at: number, recordedAt = at) {
    const data: TrackingEvent['data'] = {
      messageId: `m-${this.position + 1n}`,
      userId,
      anonymousId: null,
      occurredAt: new Date(at).toISOString(),
      receivedAt: new Date(recordedAt).toISOString(),
      sentAt: null,
      originalTimestamp: null,
      campaign: null,
      page: null,
      event,
      properties,
    } as TrackingEvent['data'];
    return this.event('EventTracked', data, recordedAt, `contact-${workspaceId}:${userId}`);
  }

  identify(userId: string, traits: JsonObject, at: number) {
    return this.event(
      'ContactIdentified',
      {
        messageId: `m-${this.position + 1n}`,
        userId,
        anonymousId: null,
        occurredAt: new Date(at).toISOString(),
        receivedAt: new Date(at).toISOString(),
        sentAt: null,
        originalTimestamp: null,
        campaign: null,
        page: null,
        traits,
      },
      at,
    );
  }

  created(segmentId: string, conditions: unknown, at: number, kind: 'dynamic' | 'static' = 'dynamic') {
    const definition: SegmentDefinition = {
      name: segmentId,
      description: null,
      kind,
      conditions: conditions === null ? null : parseConditionTree(conditions),
    };
    return this.event(
      'SegmentCreated',
      { segmentId, version: 1, definition, createdAt: new Date(at).toISOString() },
      at,
    );
  }

  tick(at: number) {
    return this.event('SegmentClockTicked', { at: new Date(at).toISOString() }, at);
  }

  catalog(): SegmentCatalogDocument {
    return this.store.documents<SegmentCatalogDocument>(segmentCatalogCollection)[0];
  }
  members(segmentId: string): string[] {
    return this.store
      .documents<SegmentMembershipDocument>(segmentMembershipsCollection)
      .filter((m) => m.segmentId === segmentId && m.member)
      .map((m) => m.contactId)
      .sort();
  }
  changes(segmentId: string): SegmentChangeDocument[] {
    return this.store
      .documents<SegmentChangeDocument>(segmentChangesCollection)
      .filter((c) => c.segmentId === segmentId)
      .sort((a, b) => a.at.localeCompare(b.at) || a._id.localeCompare(b._id));
  }
}

const signedUpLastWeek = {
  kind: 'performed',
  event: 'Signed Up',
  count: { op: 'atLeast', value: 1 },
  window: { lastDays: 7 },
};

describe('segments projection', () => {
  it('enters on an event and leaves when the window passes, at that instant', async () => {
    const log = new Log();
    await log.project(log.created('recent', signedUpLastWeek, T0));
    await log.project(log.track('ann', 'Signed Up', {}, T0 + 1000));
    expect(log.members('recent')).toEqual(['ann']);
    expect(log.catalog().nextDueAt).toBe(T0 + 1000 + 7 * DAY + 1);

    await log.project(log.tick(T0 + 8 * DAY));
    expect(log.members('recent')).toEqual([]);
    const changes = log.changes('recent');
    expect(changes.map((c) => [c.change, c.at, c.reason.cause, c.reason.conditions])).toEqual([
      ['entered', new Date(T0 + 1000).toISOString(), 'conditions', ['conditions']],
      ['left', new Date(T0 + 1000 + 7 * DAY + 1).toISOString(), 'time', ['conditions']],
    ]);
    expect(log.catalog().segments[0].size).toBe(0);
    const sizes = log.store.documents<SegmentSizeDocument>(segmentSizesCollection);
    expect(sizes.map((s) => [s.day, s.entered, s.left, s.size]).sort()).toEqual([
      ['2025-03-01', 1, 0, 1],
      ['2025-03-08', 0, 1, 0],
    ]);
  });

  it('back-fills a new definition from the contacts it already knows', async () => {
    const log = new Log();
    await log.project(
      log.identify('ann', { plan: 'pro' }, T0),
      log.identify('bob', { plan: 'free' }, T0),
    );
    await log.project(
      log.created('pro', { kind: 'trait', property: 'plan', operator: 'eq', value: 'pro' }, T0 + 1),
    );
    expect(log.members('pro')).toEqual(['ann']);
    expect(log.changes('pro')[0].reason.cause).toBe('definition');
    expect(log.catalog().segments[0].backfill).toMatchObject({ total: 2, processed: 2 });
    expect(log.catalog().segments[0].backfill?.finishedAt).not.toBeNull();

    await log.project(log.identify('bob', { plan: 'pro' }, T0 + 2));
    expect(log.members('pro')).toEqual(['ann', 'bob']);
  });

  it('follows the segments a segment reads', async () => {
    const log = new Log();
    await log.project(
      log.created('pro', { kind: 'trait', property: 'plan', operator: 'eq', value: 'pro' }, T0),
      log.created(
        'active-pro',
        { kind: 'and', conditions: [{ kind: 'memberOf', segmentId: 'pro' }, signedUpLastWeek] },
        T0,
      ),
      log.track('ann', 'Signed Up', {}, T0 + 10),
    );
    expect(log.members('active-pro')).toEqual([]);
    await log.project(log.identify('ann', { plan: 'pro' }, T0 + 20));
    expect(log.members('pro')).toEqual(['ann']);
    expect(log.members('active-pro')).toEqual(['ann']);
    expect(log.changes('active-pro')[0].reason.conditions).toEqual(['conditions.conditions.0']);
  });
});
