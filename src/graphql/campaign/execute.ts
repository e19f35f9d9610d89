/**
 * Runs a campaign command for a resolver: the caller's workspace and actor, a command id
 * (the client's, for idempotency, or a new one), the clock from the services, and the
 * result as the API shows it.
 */
import type { CampaignCommand } from '../../domain/campaign';
import type { TouchlineContext } from '../context';
import { commandIdOrNew, optionalInt64 } from '../shared/arguments';
import { CampaignCommandResult } from './campaign.types';

export async function execute(
  context: TouchlineContext,
  commandId: string | null | undefined,
  expectedRevision: string | null | undefined,
  build: (metadata: CampaignCommand['metadata']) => CampaignCommand,
): Promise<CampaignCommandResult> {
  const { services } = context;
  const command = build({
    workspaceId: context.workspaceId,
    commandId: commandIdOrNew(commandId, services.newId),
    now: services.clock(),
    ...(context.actor !== undefined && { actor: context.actor }),
    correlationId: context.requestId,
  });
  const outcome = await services.campaigns.execute(command, {
    expectedRevision: optionalInt64('expectedRevision', expectedRevision),
  });
  return Object.assign(new CampaignCommandResult(), {
    campaignId: command.data.campaignId,
    revision: outcome.revision.toString(),
    position: outcome.position.toString(),
    replayed: outcome.replayed,
  });
}
