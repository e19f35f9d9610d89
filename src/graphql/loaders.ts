/** DataLoaders, built once per request so batching and caching never cross requests. */
import DataLoader from 'dataloader';
import type { CampaignDocument } from '../projections/campaigns/campaigns.projection';
import type { ContactDocument } from '../projections/contacts/contact-profile';
import {
  contactIdentitiesCollection,
  contactsCollection,
  type ContactIdentityDocument,
} from '../projections/contacts/contacts.projection';
import type { Loaders, Services } from './context';

export function createLoaders(services: Services, workspaceId: string): Loaders {
  return {
    campaign: new DataLoader<string, CampaignDocument | null>(async (ids) => {
      const keys = ids.map((id) => documentKey(workspaceId, id));
      const found = await services.readModels
        .collection<CampaignDocument>('campaigns')
        .find({ _id: { $in: keys } });
      const byKey = new Map(found.map((document) => [document._id, document]));
      return keys.map((key) => byKey.get(key) ?? null);
    }),
    contact: new DataLoader<string, ContactDocument | null>((ids) =>
      contactsByIdentity(services, workspaceId, ids),
    ),
  };
}

/**
 * Contacts by their id or any of their userIds / anonymousIds: canonical ids in one read; only
 * the ids that are not canonical ones cost two more (their identities, then their contacts).
 */
export async function contactsByIdentity(
  services: Services,
  workspaceId: string,
  ids: readonly string[],
): Promise<(ContactDocument | null)[]> {
  const contacts = services.readModels.collection<ContactDocument>(contactsCollection);
  const byKey = new Map(
    (await contacts.find({ _id: { $in: ids.map((id) => documentKey(workspaceId, id)) } })).map(
      (document) => [document._id, document],
    ),
  );
  const missing = ids.filter((id) => !byKey.has(documentKey(workspaceId, id)));
  const canonical = new Map<string, string>();
  if (missing.length > 0) {
    const identities = await services.readModels
      .collection<ContactIdentityDocument>(contactIdentitiesCollection)
      .find({ _id: { $in: missing.map((id) => documentKey(workspaceId, id)) } });
    for (const identity of identities) canonical.set(identity._id, identity.contactId);
    const found = await contacts.find({
      _id: { $in: [...canonical.values()].map((id) => documentKey(workspaceId, id)) },
    });
    for (const document of found) byKey.set(document._id, document);
  }
  return ids.map((id) => {
    const key = documentKey(workspaceId, id);
    const contactId = canonical.get(key);
    return byKey.get(contactId === undefined ? key : documentKey(workspaceId, contactId)) ?? null;
  });
}

/** Read-model documents are keyed by workspace first, so one tenant's id never finds another's. */
export function documentKey(workspaceId: string, id: string): string {
  return `${workspaceId}:${id}`;
}
