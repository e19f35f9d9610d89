/**
 * Turns raw command input into the clean values events carry, or throws a ValidationError
 * naming the input field. Create and update share these, so both enforce the same rules.
 */
import { ValidationError } from '../shared/errors';
import { requireText } from '../shared/text';
import { parseMoney, type Money } from '../shared/money';
import type { GoalInput, MoneyInput, ScheduleInput } from './campaign.commands';
import {
  campaignChannels,
  campaignGoalMetrics,
  type CampaignChannel,
  type CampaignGoal,
  type CampaignSchedule,
} from './campaign.events';

export const campaignLimits = {
  nameLength: 200,
  descriptionLength: 5000,
  tagCount: 50,
  tagLength: 64,
  pauseReasonLength: 500,
  sourceLength: 100,
  spendNoteLength: 500,
} as const;

export function parseName(name: string, field = 'name'): string {
  return requireText(name, field, campaignLimits.nameLength);
}

export function parseDescription(description: string | undefined, field = 'description'): string {
  const text = (description ?? '').trim();
  if (text.length > campaignLimits.descriptionLength) {
    throw new ValidationError(
      field,
      `${field} must be at most ${campaignLimits.descriptionLength} characters`,
      'TOO_LONG',
    );
  }
  return text;
}

/** Channels are a set: a repeated one is a client mistake worth reporting, not fixing. */
export function parseChannels(
  channels: readonly string[] | undefined,
  field = 'channels',
): CampaignChannel[] {
  const parsed: CampaignChannel[] = [];
  for (const input of channels ?? []) {
    const channel = parseChannel(input, field);
    if (parsed.includes(channel)) {
      throw new ValidationError(field, `channel ${channel} is listed twice`, 'DUPLICATE_CHANNEL');
    }
    parsed.push(channel);
  }
  return parsed;
}

export function parseChannel(channel: string, field = 'channel'): CampaignChannel {
  if (!isOneOf(campaignChannels, channel)) {
    throw new ValidationError(
      field,
      `unknown channel "${channel}"; expected one of ${campaignChannels.join(', ')}`,
      'UNKNOWN_CHANNEL',
    );
  }
  return channel;
}

/** Tags are free labels: trimmed and de-duplicated quietly, first occurrence kept. */
export function parseTags(tags: readonly string[] | undefined, field = 'tags'): string[] {
  const distinct = [...new Set((tags ?? []).map((tag) => tag.trim()))];
  for (const tag of distinct) {
    if (tag.length === 0 || tag.length > campaignLimits.tagLength) {
      throw new ValidationError(
        field,
        `each tag must be 1 to ${campaignLimits.tagLength} characters, got "${tag}"`,
        'INVALID_TAG',
      );
    }
  }
  if (distinct.length > campaignLimits.tagCount) {
    throw new ValidationError(
      field,
      `at most ${campaignLimits.tagCount} distinct tags, got ${distinct.length}`,
      'TOO_MANY_TAGS',
    );
  }
  return distinct;
}

export function parseBudget(budget: MoneyInput | null | undefined, field = 'budget'): Money | null {
  return budget ? parseMoney(budget.amount, budget.currency, `${field}.amount`) : null;
}

export function parseGoal(goal: GoalInput | null | undefined, field = 'goal'): CampaignGoal | null {
  if (!goal) return null;
  const { metric } = goal;
  if (!isOneOf(campaignGoalMetrics, metric)) {
    throw new ValidationError(
      `${field}.metric`,
      `unknown goal metric "${metric}"; expected one of ${campaignGoalMetrics.join(', ')}`,
      'UNKNOWN_METRIC',
    );
  }
  if (metric === 'REVENUE') return { metric, target: parseRevenueTarget(goal, field) };
  if (goal.currency != null) {
    throw new ValidationError(
      `${field}.currency`,
      `a ${metric} goal counts events and takes no currency`,
      'UNEXPECTED_CURRENCY',
    );
  }
  return { metric, target: parseCountTarget(goal.target, `${field}.target`) };
}

/** Both ends optional; when both are given the campaign must end after it starts. */
export function parseSchedule(
  schedule: ScheduleInput | null | undefined,
  field = 'schedule',
): CampaignSchedule {
  const startsAt =
    schedule?.startsAt != null ? parseInstant(schedule.startsAt, `${field}.startsAt`) : null;
  const endsAt = schedule?.endsAt != null ? parseInstant(schedule.endsAt, `${field}.endsAt`) : null;
  if (startsAt !== null && endsAt !== null)
    assertEndsAfterStart(startsAt, endsAt, `${field}.endsAt`);
  return { startsAt, endsAt };
}

export function assertEndsAfterStart(startsAt: string, endsAt: string, field: string): void {
  if (Date.parse(endsAt) <= Date.parse(startsAt)) {
    throw new ValidationError(field, `must be after the start (${startsAt})`, 'END_BEFORE_START');
  }
}

export function parsePauseReason(reason: string | undefined, field = 'reason'): string {
  return reason === undefined
    ? 'manual'
    : requireText(reason, field, campaignLimits.pauseReasonLength);
}

/** A calendar day `YYYY-MM-DD` (the ad platform's reporting day; no time, no offset). */
export function parseDay(value: string, field = 'day'): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const [year, month, day] = (match?.slice(1) ?? []).map(Number);
  const daysInMonth = match ? new Date(Date.UTC(year, month, 0)).getUTCDate() : 0;
  if (!match || month < 1 || month > 12 || day < 1 || day > daysInMonth) {
    throw new ValidationError(
      field,
      `"${value}" is not a calendar day such as 2025-01-31`,
      'INVALID_DATE',
    );
  }
  return value;
}

/** Where figures come from, e.g. `google-ads`; part of an ad-report row's key, so kept as typed. */
export function parseSource(source: string, field = 'source'): string {
  return requireText(source, field, campaignLimits.sourceLength);
}

export function parseCount(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ValidationError(
      field,
      `${field} must be a whole number of at least 0, got ${value}`,
      'INVALID_COUNT',
    );
  }
  return value;
}

export function parseSpendNote(note: string | null | undefined, field = 'note'): string | null {
  const text = (note ?? '').trim();
  if (text.length > campaignLimits.spendNoteLength) {
    throw new ValidationError(
      field,
      `${field} must be at most ${campaignLimits.spendNoteLength} characters`,
      'TOO_LONG',
    );
  }
  return text.length === 0 ? null : text;
}

/**
 * An ISO-8601 date-time with an explicit offset, normalised to UTC (`toISOString`). A bare
 * date or a local time is refused: without an offset the instant would depend on the server.
 */
export function parseInstant(value: string, field: string): string {
  const match = isoInstantPattern.exec(value.trim());
  const millis = match ? Date.parse(value.trim()) : Number.NaN;
  if (!match || Number.isNaN(millis) || !hasRealCalendarFields(match)) {
    throw new ValidationError(
      field,
      `"${value}" is not an ISO-8601 date-time such as 2025-01-31T09:00:00Z`,
      'INVALID_DATE',
    );
  }
  return new Date(millis).toISOString();
}

const isoInstantPattern =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

/** `Date.parse` rolls 2025-02-30 over into March; a typo should be refused instead. */
function hasRealCalendarFields(match: RegExpExecArray): boolean {
  // Absent optional groups (seconds, the offset of a `Z`) count as zero.
  const [year, month, day, hour, minute, second, offsetHour, offsetMinute] = match
    .slice(1, 9)
    .map((part) => Number(part ?? '0'));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    offsetHour <= 23 &&
    offsetMinute <= 59
  );
}

function parseRevenueTarget(goal: GoalInput, field: string): Money {
  if (goal.currency == null) {
    throw new ValidationError(`${field}.currency`, 'a REVENUE goal needs a currency', 'REQUIRED');
  }
  const target = parseMoney(String(goal.target), goal.currency, `${field}.target`);
  if (target.amountMinor === 0) {
    throw new ValidationError(
      `${field}.target`,
      'the revenue target must be positive',
      'INVALID_TARGET',
    );
  }
  return target;
}

function parseCountTarget(target: number | string, field: string): number {
  const count =
    typeof target === 'number' ? target : /^\d+$/.test(target.trim()) ? Number(target) : NaN;
  if (!Number.isSafeInteger(count) || count <= 0) {
    throw new ValidationError(
      field,
      `the target must be a positive whole number, got "${target}"`,
      'INVALID_TARGET',
    );
  }
  return count;
}

function isOneOf<T extends string>(allowed: readonly T[], value: string): value is T {
  return (allowed as readonly string[]).includes(value);
}
