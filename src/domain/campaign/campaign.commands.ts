/**
 * What a client asks of a campaign. Command data is raw input (strings as typed, money as
 * decimal strings): the decider validates and normalises it into events.
 */
import type { CommandMetadata } from '../shared/events';
import type { JsonObject } from '../tracking/tracking.events';
import type { CampaignContentSource } from './campaign.events';

export interface Command<Type extends string, Data extends object> {
  readonly type: Type;
  readonly data: Data;
  readonly metadata: CommandMetadata;
}

export interface MoneyInput {
  /** Decimal string in major units, e.g. "1500.50". */
  readonly amount: string;
  readonly currency: string;
}

/**
 * For REVENUE, `target` is a decimal amount in `currency` (e.g. "25000.00"); for the other
 * metrics it is a positive whole number (a number or a string of digits) and `currency`
 * must be absent.
 */
export interface GoalInput {
  readonly metric: string;
  readonly target: number | string;
  readonly currency?: string | null;
}

export interface ScheduleInput {
  readonly startsAt?: string | null;
  readonly endsAt?: string | null;
}

export interface CampaignFieldsInput {
  readonly name: string;
  readonly description?: string;
  readonly channels?: readonly string[];
  readonly goal?: GoalInput | null;
  readonly budget?: MoneyInput | null;
  readonly tags?: readonly string[];
}

export type CreateCampaignData = CampaignFieldsInput & {
  readonly campaignId: string;
  readonly schedule?: ScheduleInput | null;
  /** Set when the campaign is a copy of another one (see `duplicateCampaignInput`). */
  readonly duplicatedFrom?: string | null;
};

/** Absent fields stay as they are; a null goal or budget removes it. */
export type UpdateCampaignData = Partial<CampaignFieldsInput> & { readonly campaignId: string };

export type CreateCampaign = Command<'CreateCampaign', CreateCampaignData>;
export type UpdateCampaign = Command<'UpdateCampaign', UpdateCampaignData>;
export type ScheduleCampaign = Command<
  'ScheduleCampaign',
  { readonly campaignId: string; readonly startsAt: string; readonly endsAt?: string | null }
>;
export type LaunchCampaign = Command<'LaunchCampaign', { readonly campaignId: string }>;
export type PauseCampaign = Command<
  'PauseCampaign',
  { readonly campaignId: string; readonly reason?: string }
>;
export type ResumeCampaign = Command<'ResumeCampaign', { readonly campaignId: string }>;
export type CompleteCampaign = Command<'CompleteCampaign', { readonly campaignId: string }>;
export type ArchiveCampaign = Command<'ArchiveCampaign', { readonly campaignId: string }>;

/** One ad platform's figures; `day` is a calendar day `YYYY-MM-DD`, `source` e.g. `google-ads`. */
export type ImportAdReport = Command<
  'ImportAdReport',
  {
    readonly campaignId: string;
    readonly channel: string;
    readonly day: string;
    readonly source: string;
    readonly impressions: number;
    readonly clicks: number;
    readonly spend: MoneyInput;
  }
>;

/** Spend entered by hand; `entryId` is the client's id of the entry, so a retry adds nothing. */
export type RecordSpend = Command<
  'RecordSpend',
  {
    readonly campaignId: string;
    readonly channel: string;
    readonly day: string;
    readonly amount: MoneyInput;
    readonly entryId: string;
    readonly note?: string | null;
  }
>;

/** Issued by the budget guard when the spend crosses a threshold (75, 90 or 100 %). */
export type RecordBudgetThreshold = Command<
  'RecordBudgetThreshold',
  { readonly campaignId: string; readonly threshold: number }
>;

/**
 * Sets what the campaign shows on one surface (`CAMPAIGN`, `EMAIL:welcome-email`, …), replacing
 * the content it showed there; `source` names the experiment variant it comes from, if any.
 */
export type ApplyCampaignContent = Command<
  'ApplyCampaignContent',
  {
    readonly campaignId: string;
    readonly surface: string;
    readonly content: JsonObject;
    readonly source: CampaignContentSource | null;
  }
>;

export type CampaignCommand =
  | CreateCampaign
  | UpdateCampaign
  | ScheduleCampaign
  | LaunchCampaign
  | PauseCampaign
  | ResumeCampaign
  | CompleteCampaign
  | ArchiveCampaign
  | ImportAdReport
  | RecordSpend
  | RecordBudgetThreshold
  | ApplyCampaignContent;
