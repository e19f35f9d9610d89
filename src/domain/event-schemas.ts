/**
 * The shape versions of every Touchline event type: the one registry writers take the
 * version to store from and readers lift old events with. An aggregate whose event changes
 * shape adds its upcasters here.
 */
import { campaignUpcasters } from './campaign/campaign.upcasters';
import { eventSchemas } from './shared/upcasting';

export const touchlineEventSchemas = eventSchemas({
  ...campaignUpcasters,
});

/** The version a writer stores in `metadata.schemaVersion` for an event of `type`. */
export function currentSchemaVersion(type: string): number {
  return touchlineEventSchemas.currentVersion(type);
}

/** A recorded event in its type's current shape (see `EventSchemas.upcast`). */
export const upcastEvent = touchlineEventSchemas.upcast;
