/**
 * A contact saw a variant: recorded by `assignVariant` on the contact's stream, once per
 * contact and phase (its event id is derived from them, so a repeat is the same event). A
 * tracked `Experiment Viewed` call (Segment's semantic event) counts as an exposure too.
 */
import type { DomainEvent } from '../shared/events';

export type ExperimentExposed = DomainEvent<
  'ExperimentExposed',
  {
    readonly experimentKey: string;
    readonly phase: number;
    /** The variant's key. */
    readonly variant: string;
    /** The unit: the id the assignment was hashed on (a userId or an anonymousId). */
    readonly contactId: string;
    readonly exposedAt: string;
  }
>;

export const experimentExposedType = 'ExperimentExposed';
