/** Every projection the server runs, in one place (the projector thread loads it too). */
import { campaignMetricsProjection } from '../../projections/campaign-metrics/campaign-metrics.projection';
import { campaignsProjection } from '../../projections/campaigns/campaigns.projection';
import { contactsProjection } from '../../projections/contacts/contacts.projection';
import type { Projection } from '../../projections/projection';

export const projections: readonly Projection[] = [
  campaignsProjection,
  contactsProjection,
  campaignMetricsProjection,
];
