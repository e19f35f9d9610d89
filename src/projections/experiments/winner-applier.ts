/**
 * Applying an experiment's winner: when `applyWinner` records ExperimentWinnerApplied, the
 * owning campaign gets the winning variant's content through its own command
 * (ApplyCampaignContent), under the experiment's surface. Pure: the process-manager runner in
 * src/infra keeps the checkpoint and executes the command (its id derived from the event, so
 * it is applied once).
 */
import type { ApplyCampaignContent } from '../../domain/campaign';
import { campaignContentSurface, type ExperimentWinnerApplied } from '../../domain/experiment';
import type { RecordedEvent } from '../../domain/shared/events';

export const WINNER_APPLIER = 'experiment-winner-applier';

export interface AppliedWinner {
  readonly workspaceId: string;
  readonly experimentId: string;
  readonly variant: string;
}

export type WinnerApplierCommand = Pick<ApplyCampaignContent, 'type' | 'data'>;

export const winnerApplier = {
  name: WINNER_APPLIER,
  eventTypes: ['ExperimentWinnerApplied'] as const,
  stateKey(event: RecordedEvent): string | null {
    if (event.type !== 'ExperimentWinnerApplied') return null;
    const { experimentId } = event.data as ExperimentWinnerApplied['data'];
    return `${event.metadata.workspaceId}:${experimentId}`;
  },
  react(
    events: readonly RecordedEvent[],
    state: ReadonlyMap<string, AppliedWinner>,
  ): {
    state: ReadonlyMap<string, AppliedWinner>;
    commands: { cause: RecordedEvent; command: WinnerApplierCommand }[];
  } {
    const changed = new Map<string, AppliedWinner>();
    const commands: { cause: RecordedEvent; command: WinnerApplierCommand }[] = [];
    for (const event of events) {
      const key = this.stateKey(event);
      if (key === null) continue;
      const data = event.data as ExperimentWinnerApplied['data'];
      if ((changed.get(key) ?? state.get(key)) !== undefined) continue;
      changed.set(key, {
        workspaceId: event.metadata.workspaceId,
        experimentId: data.experimentId,
        variant: data.variant,
      });
      commands.push({
        cause: event,
        command: {
          type: 'ApplyCampaignContent',
          data: {
            campaignId: data.campaignId,
            surface: campaignContentSurface(data.surface),
            content: data.content,
            source: { experimentId: data.experimentId, variant: data.variant },
          },
        },
      });
    }
    return { state: changed, commands };
  },
};
