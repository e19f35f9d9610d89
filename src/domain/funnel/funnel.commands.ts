import type { CommandMetadata } from '../shared/events';
import type { PropertyConditionInput } from '../shared/conditions';

export interface FunnelStepInput {
  readonly event: string;
  readonly filters?: readonly PropertyConditionInput[] | null;
}

export interface FunnelExclusionInput extends FunnelStepInput {
  readonly fromStep: number;
  readonly toStep: number;
}

/** The definition as a client sends it; `parseFunnelDefinition` checks and completes it. */
export interface FunnelDefinitionInput {
  readonly name: string;
  readonly steps: readonly FunnelStepInput[];
  /** Default `ordered`. */
  readonly order?: string | null;
  /** Default 14 days. */
  readonly windowSeconds?: number | null;
  readonly exclusions?: readonly FunnelExclusionInput[] | null;
  readonly breakdown?: { readonly property: string; readonly attribution?: string | null } | null;
  readonly campaignId?: string | null;
}

export type CreateFunnel = {
  readonly type: 'CreateFunnel';
  readonly data: { readonly funnelId: string; readonly definition: FunnelDefinitionInput };
  readonly metadata: CommandMetadata;
};

export type UpdateFunnel = {
  readonly type: 'UpdateFunnel';
  readonly data: { readonly funnelId: string; readonly definition: FunnelDefinitionInput };
  readonly metadata: CommandMetadata;
};

export type ArchiveFunnel = {
  readonly type: 'ArchiveFunnel';
  readonly data: { readonly funnelId: string };
  readonly metadata: CommandMetadata;
};

export type FunnelCommand = CreateFunnel | UpdateFunnel | ArchiveFunnel;
