import { currentSchemaVersion, upcastEvent } from '../../src/domain/event-schemas';
import type { CampaignScheduled } from '../../src/domain/campaign';
import type { CampaignScheduledV1 } from '../../src/domain/campaign/campaign.upcasters';
import type { EventMetadata, RecordedEvent } from '../../src/domain/shared/events';
import {
  UnknownSchemaVersionError,
  eventSchemas,
  type Upcaster,
} from '../../src/domain/shared/upcasting';

function stored(type: string, data: object, schemaVersion: unknown): RecordedEvent {
  return {
    eventId: '00000000-0000-4000-8000-000000000001',
    type,
    data,
    metadata: { workspaceId: 'acme', schemaVersion } as EventMetadata,
    streamId: 'stream-1',
    revision: 0n,
    position: 7n,
    recordedAt: new Date('2025-02-02T00:00:00.000Z'),
  };
}

/** A made-up history: `Renamed` went {title} → {name} (v2) → {name, locale} (v3). */
const renamedV1ToV2: Upcaster<{ title: string }, { name: string }> = ({ title }) => ({
  name: title,
});
const renamedV2ToV3: Upcaster<{ name: string }, { name: string; locale: string }> = (
  data,
  metadata,
) => ({ ...data, locale: metadata.workspaceId === 'acme' ? 'en-GB' : 'en' });
const schemas = eventSchemas({ Renamed: [renamedV1ToV2, renamedV2ToV3] });

describe('event schemas', () => {
  it('puts a type without upcasters at version 1 and one with n upcasters at n + 1', () => {
    expect(schemas.currentVersion('Unrelated')).toBe(1);
    expect(schemas.currentVersion('Renamed')).toBe(3);
  });

  it('given a version 1 event, when upcast, then every upcaster runs in order, with the stored metadata', () => {
    const event = stored('Renamed', { title: 'Spring' }, 1);

    const lifted = schemas.upcast(event);

    expect(lifted).toEqual({
      ...event,
      data: { name: 'Spring', locale: 'en-GB' },
      metadata: { workspaceId: 'acme', schemaVersion: 3, storedSchemaVersion: 1 },
    });
    // and the stored event is left as it was
    expect(event.data).toEqual({ title: 'Spring' });
    expect(event.metadata.schemaVersion).toBe(1);
  });

  it('given a version 2 event, when upcast, then only the later upcasters run', () => {
    const lifted = schemas.upcast(stored('Renamed', { name: 'Spring' }, 2));

    expect(lifted.data).toEqual({ name: 'Spring', locale: 'en-GB' });
    expect(lifted.metadata).toMatchObject({ schemaVersion: 3, storedSchemaVersion: 2 });
  });

  it('given a current event, when upcast, then it is the same object', () => {
    const current = stored('Renamed', { name: 'Spring', locale: 'en' }, 3);
    const unversioned = stored('Unrelated', { any: 'thing' }, 1);

    expect(schemas.upcast(current)).toBe(current);
    expect(schemas.upcast(unversioned)).toBe(unversioned);
  });

  it('given an event from a later build, when upcast, then it fails with a clear error', () => {
    const future = stored('Renamed', { name: 'Spring', locale: 'en', tone: 'warm' }, 4);

    expect(() => schemas.upcast(future)).toThrow(UnknownSchemaVersionError);
    expect(() => schemas.upcast(future)).toThrow(
      /event 00000000-0000-4000-8000-000000000001 \(Renamed\) has schema version 4, newer than this build reads \(3\)/,
    );
    expect(() => schemas.upcast(stored('Unrelated', {}, 2))).toThrow(UnknownSchemaVersionError);
  });

  it('given an event without a valid schema version, when upcast, then it fails', () => {
    for (const version of [undefined, 0, 1.5, '1']) {
      expect(() => schemas.upcast(stored('Renamed', { title: 'x' }, version))).toThrow(
        /has no valid schema version/,
      );
    }
  });
});

describe("Touchline's event schemas", () => {
  it('stores CampaignScheduled at version 2 and every other type at version 1', () => {
    expect(currentSchemaVersion('CampaignScheduled')).toBe(2);
    expect(currentSchemaVersion('CampaignCreated')).toBe(1);
    expect(currentSchemaVersion('EventTracked')).toBe(1);
  });

  it('lifts a version 1 CampaignScheduled into one schedule value', () => {
    const v1: CampaignScheduledV1 = {
      campaignId: 'spring-sale',
      startsAt: '2025-04-01T00:00:00.000Z',
      endsAt: null,
      scheduledAt: '2025-02-02T00:00:00.000Z',
    };

    const lifted = upcastEvent(stored('CampaignScheduled', v1, 1));

    const expected: CampaignScheduled['data'] = {
      campaignId: 'spring-sale',
      schedule: { startsAt: '2025-04-01T00:00:00.000Z', endsAt: null },
      scheduledAt: '2025-02-02T00:00:00.000Z',
    };
    expect(lifted.data).toEqual(expected);
    expect(lifted.metadata).toMatchObject({ schemaVersion: 2, storedSchemaVersion: 1 });
  });
});
