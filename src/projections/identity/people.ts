/**
 * Which person each identity belongs to, as one projection batch sees it (through its batch
 * documents), for read models that keep people rather than raw identities (funnels,
 * attribution). A person's id is the identity it was first seen under; joins (joins.ts) keep
 * the known side's. Each read model keeps its own two collections, named by the caller:
 * `identities` maps an identity to its person, `persons` lists a person's identities.
 */
import type { TrackingEvent } from '../../domain/tracking/tracking.events';
import type { BatchDocuments } from '../batch-documents';
import { survivingSide } from './joins';

export interface PeopleCollections {
  readonly identities: string;
  readonly persons: string;
}

type IdentityDocument = {
  /** `${workspaceId}:${identity}`. */
  readonly _id: string;
  readonly workspaceId: string;
  readonly identity: string;
  readonly personId: string;
};

type PersonIdentities = {
  /** `${workspaceId}:${personId}`. */
  readonly _id: string;
  readonly workspaceId: string;
  readonly personId: string;
  readonly identities: readonly string[];
  /** The person has a userId. */
  readonly known: boolean;
};

export class People {
  constructor(
    private readonly documents: BatchDocuments,
    private readonly collections: PeopleCollections,
  ) {}

  /** The person an identity belongs to, registered when new; `known`: filed under a userId. */
  async resolve(workspaceId: string, identity: string, known: boolean): Promise<string> {
    const mapped = await this.identity(workspaceId, identity);
    const personId = mapped?.personId ?? identity;
    const person = await this.person(workspaceId, personId);
    if (person === null) {
      this.point(workspaceId, [identity], personId);
      this.save({
        _id: `${workspaceId}:${personId}`,
        workspaceId,
        personId,
        identities: [identity],
        known,
      });
    } else if (known && !person.known) {
      this.save({ ...person, known });
    }
    return personId;
  }

  /** Joins `joined`'s person with `personId`'s; null when nothing merges. */
  async join(
    workspaceId: string,
    personId: string,
    joined: string,
    eventType: TrackingEvent['type'],
  ): Promise<{ absorbed: string; kept: string } | null> {
    const own = (await this.person(workspaceId, personId)) as PersonIdentities;
    const mapped = await this.identity(workspaceId, joined);
    if (mapped === null) {
      this.point(workspaceId, [joined], personId);
      this.save({ ...own, identities: [...own.identities, joined] });
      return null;
    }
    if (mapped.personId === personId) return null;
    const other = (await this.person(workspaceId, mapped.personId)) as PersonIdentities;
    const side = survivingSide(eventType, own, other);
    if (side === 'none') return null;
    const [kept, absorbed] = side === 'own' ? [own, other] : [other, own];
    this.point(workspaceId, absorbed.identities, kept.personId);
    this.save({
      ...kept,
      identities: [...kept.identities, ...absorbed.identities],
      known: kept.known || absorbed.known,
    });
    this.documents.delete(this.collections.persons, absorbed._id);
    return { absorbed: absorbed.personId, kept: kept.personId };
  }

  private point(workspaceId: string, identities: readonly string[], personId: string): void {
    for (const identity of identities) {
      const document: IdentityDocument = {
        _id: `${workspaceId}:${identity}`,
        workspaceId,
        identity,
        personId,
      };
      this.documents.set(this.collections.identities, document);
    }
  }

  private save(person: PersonIdentities): void {
    this.documents.set(this.collections.persons, person);
  }

  private identity(workspaceId: string, identity: string) {
    return this.documents.get<IdentityDocument>(
      this.collections.identities,
      `${workspaceId}:${identity}`,
    );
  }

  private person(workspaceId: string, personId: string) {
    return this.documents.get<PersonIdentities>(
      this.collections.persons,
      `${workspaceId}:${personId}`,
    );
  }
}
