/**
 * A contact as segment conditions read it, and the preview of an unsaved condition tree over
 * every contact of a workspace.
 *
 * The preview walks the contact directory (segment_directory, one document per chunk of
 * contact ids) and reads each chunk's profiles with one `$in` on `_id` (a lookup, not a scan,
 * in both stores; no sort), projected to the fields the tree reads when it reads no events
 * (see `previewProjection`), so a tree on traits does not copy every contact's events.
 * `memberOf` is answered from the referenced segments' current members, read once.
 */
import {
  evaluate,
  readsOf,
  type ConditionNode,
  type SegmentReads,
} from '../../domain/segment/condition-tree';
import type { ContactDocument } from '../contacts/contact-profile';
import {
  segmentContactId,
  segmentContactsCollection,
  segmentDirectoryCollection,
  type SegmentDirectoryDocument,
} from './segment-documents';
import { segmentContactOf, type SegmentContactSource } from './segment-contact';
import { memberSets, type SegmentCollection } from './segment-query';

/**
 * The profile fields a tree reads, to copy only those out of the store; null (the whole
 * profile) when it reads events. Projecting an array of objects costs the embedded store
 * (mingo) about three times a copy of the whole document, and events are most of a profile
 * anyway, so for such trees the projection would cost more than it saves.
 */
export function previewProjection(reads: SegmentReads): Record<string, 1> | null {
  if (reads.events.length > 0) return null;
  const fields: Record<string, 1> = { contactId: 1 };
  for (const trait of reads.traits) fields[`traits.${trait}`] = 1;
  if (reads.revenue) fields.revenue = 1;
  if (reads.conversions) fields.conversions = 1;
  if (reads.lastSeen) fields.lastSeenAt = 1;
  return fields;
}

export interface SegmentPreview {
  /** Contacts that satisfy the tree. */
  readonly size: number;
  /** The first matching contact ids, in directory order. */
  readonly sample: string[];
  /** Contacts evaluated. */
  readonly evaluated: number;
}

type PreviewProfile = Partial<SegmentContactSource> & Pick<ContactDocument, '_id' | 'contactId'>;

/**
 * Evaluates the tree at `now` for every contact of the workspace. `pause` is awaited after each
 * chunk, so a caller can let other work in during a long walk.
 */
export async function previewSegment(
  collection: SegmentCollection,
  workspaceId: string,
  tree: ConditionNode,
  now: number,
  options: { readonly sampleSize: number; readonly pause?: () => Promise<void> },
): Promise<SegmentPreview> {
  const reads = readsOf(tree);
  const members = await memberSets(collection, workspaceId, reads.segments);
  const projection = previewProjection(reads);
  const directory = await collection<SegmentDirectoryDocument>(segmentDirectoryCollection).find(
    { workspaceId },
    { sort: { chunk: 1 } },
  );
  const contacts = collection<PreviewProfile & { _id: string }>(segmentContactsCollection);
  const sample: string[] = [];
  let size = 0;
  let evaluated = 0;
  for (const chunk of directory) {
    if (chunk.contactIds.length === 0) continue;
    const profiles = await contacts.find(
      { _id: { $in: chunk.contactIds.map((id) => segmentContactId(workspaceId, id)) } },
      projection === null ? {} : { projection },
    );
    for (const profile of profiles) {
      evaluated += 1;
      const { contactId } = profile;
      const isMember = (segmentId: string) => members.get(segmentId)?.has(contactId) ?? false;
      if (!evaluate(tree, segmentContactOf(profile), now, isMember)) continue;
      size += 1;
      if (sample.length < options.sampleSize) sample.push(contactId);
    }
    await options.pause?.();
  }
  return { size, sample, evaluated };
}
