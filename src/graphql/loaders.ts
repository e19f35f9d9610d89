/** DataLoaders, built once per request so batching and caching never cross requests. */
import DataLoader from 'dataloader';
import type { CampaignDocument } from '../projections/campaigns/campaigns.projection';
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
  };
}

/** Read-model documents are keyed by workspace first, so one tenant's id never finds another's. */
export function documentKey(workspaceId: string, id: string): string {
  return `${workspaceId}:${id}`;
}
