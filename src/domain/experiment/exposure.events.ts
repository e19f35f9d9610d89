/**
 * A contact saw a variant: recorded by `assignVariant` once per contact and phase, as the one
 * event of a stream of its own (`exposure-<workspace>:<key>:<phase>:<contact>`, created once,
 * so a repeat finds it). A tracked `Experiment Viewed` call (Segment's semantic event) counts
 * as an exposure too.
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
