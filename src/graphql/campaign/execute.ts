/**
 * Runs a campaign command for a resolver (see shared/commands.ts) and answers with the
 * campaign command result.
 */
import type { CampaignCommand } from '../../domain/campaign';
import type { TouchlineContext } from '../context';
import { runCommand } from '../shared/commands';
import { CampaignCommandResult } from './campaign.types';

export async function execute(
  context: TouchlineContext,
  commandId: string | null | undefined,
  expectedRevision: string | null | undefined,
  build: (metadata: CampaignCommand['metadata']) => CampaignCommand,
): Promise<CampaignCommandResult> {
  const { command, ...outcome } = await runCommand(
    context,
    { commandId, expectedRevision },
    build,
    (built, options) => context.services.campaigns.execute(built, options),
  );
  return Object.assign(new CampaignCommandResult(), {
    campaignId: command.data.campaignId,
    ...outcome,
  });
}
