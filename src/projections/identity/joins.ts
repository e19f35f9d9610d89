/**
 * When two identities are one person (ANALYTICS.md, Ingestion): `alias` (previousId →
 * userId) and an `identify` carrying both ids join them. Every read model that sees people
 * (contacts, funnels) applies the same rules, in log order:
 * - the known person (one with a userId) absorbs the anonymous one; when both or neither are
 *   known, the side the event is filed under keeps its id;
 * - two known people merge only through an explicit `alias`: an `identify` whose anonymous id
 *   already belongs to another known person (a shared device) joins nothing, as PostHog does.
 */
import type { TrackingEvent } from '../../domain/tracking/tracking.events';

/** The identity an event says is the same person as the one it is filed under. */
export function joinedIdentity(event: TrackingEvent): string | null {
  if (event.type === 'ContactAliased') return event.data.previousId;
  if (event.type === 'ContactIdentified') {
    const { userId, anonymousId } = event.data;
    if (userId !== null && anonymousId !== null && userId !== anonymousId) return anonymousId;
  }
  return null;
}

/**
 * Which person survives when an event filed under one person (`own`) names another one
 * (`other`) that already exists: `none` for a shared device.
 */
export function survivingSide(
  eventType: TrackingEvent['type'],
  own: { readonly known: boolean },
  other: { readonly known: boolean },
): 'own' | 'other' | 'none' {
  if (eventType === 'ContactIdentified' && own.known && other.known) return 'none';
  return !own.known && other.known ? 'other' : 'own';
}
