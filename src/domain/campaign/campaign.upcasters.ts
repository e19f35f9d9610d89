/**
 * Older shapes of campaign events, and how each is lifted to the next version on read.
 */
import type { Upcaster } from '../shared/upcasting';
import type { CampaignScheduled } from './campaign.events';

/** CampaignScheduled as schema version 1 stored it. */
export interface CampaignScheduledV1 {
  readonly campaignId: string;
  readonly startsAt: string;
  readonly endsAt: string | null;
  readonly scheduledAt: string;
}

/**
 * Version 1 → 2. Version 1 spread the schedule's two fields over the event, while
 * CampaignCreated, the campaign state and the read models all hold a schedule as one
 * `{ startsAt, endsAt }` value; every reader rebuilt that object by hand and a field added
 * to the schedule would have had to be added in two shapes. Version 2 carries the value.
 */
export const campaignScheduledV1ToV2: Upcaster<CampaignScheduledV1, CampaignScheduled['data']> = ({
  campaignId,
  startsAt,
  endsAt,
  scheduledAt,
}) => ({ campaignId, schedule: { startsAt, endsAt }, scheduledAt });

/** Every campaign event type whose shape changed, with its upcasters oldest first. */
export const campaignUpcasters = {
  CampaignScheduled: [campaignScheduledV1ToV2],
} as const;
