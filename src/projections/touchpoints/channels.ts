/**
 * Channel classification of a touchpoint (ANALYTICS.md, Channels). The table is data: an
 * ordered list of rules, the first that matches wins, and a workspace may hand in its own.
 *
 * Normalisation, where ANALYTICS.md is silent:
 * - every comparison is case-insensitive, and UTM values are trimmed; an empty UTM value is an
 *   absent one, so "UTM present" means at least one non-blank source, medium, name, term or
 *   content;
 * - the referrer's host is the WHATWG URL hostname (lower case, a trailing dot dropped); it is
 *   the page's own host when the hostnames are equal (ports are ignored, `www.` is not);
 * - a referrer that is no parseable URL (e.g. `google.com` without a scheme) is host-less: it
 *   is a referrer, but neither a search engine, nor a social network, nor the page's own host;
 * - when no rule matches (only possible with a workspace's own rules), the channel is `other`.
 */
import type { Utm } from '../../domain/tracking/tracking.events';

export const channels = [
  'paid_search',
  'paid_social',
  'display',
  'email',
  'affiliate',
  'organic_search',
  'organic_social',
  'referral',
  'other',
  'direct',
] as const;
export type Channel = (typeof channels)[number];

/** A kind of host or UTM source: any dot-separated label in `labels`, or a host in `hosts`. */
export interface HostMatcher {
  readonly labels: readonly string[];
  readonly hosts?: readonly string[];
}

/**
 * One way a rule can match. Every field that is given must hold (AND); absent fields are not
 * checked. `medium` and `source` need the UTM value to be present.
 */
export interface ChannelCondition {
  /** The UTM medium is one of these. */
  readonly medium?: readonly string[];
  /** The UTM source is one of these. */
  readonly source?: readonly string[];
  /** The UTM source, read as a host, is of this kind. */
  readonly sourceIs?: HostMatcher;
  /** true: at least one UTM value is present; false: none is. */
  readonly utm?: boolean;
  /**
   * The external referrer (a same-host referrer is none): `none`, `any`, or one whose host is
   * of the given kind.
   */
  readonly referrer?: 'none' | 'any' | HostMatcher;
}

/**
 * A row of the table: the channel, when any of its conditions holds (OR). ANALYTICS.md's
 * table names its own channels; a workspace's may name others (`C` = string).
 */
export interface ChannelRule<C extends string = Channel> {
  readonly channel: C;
  readonly when: readonly ChannelCondition[];
}

export const searchEngines: HostMatcher = {
  labels: ['google', 'bing', 'yahoo', 'duckduckgo', 'baidu', 'yandex', 'ecosia'],
};

export const socialNetworks: HostMatcher = {
  labels: [
    'facebook',
    'instagram',
    'twitter',
    'x',
    'linkedin',
    'lnkd',
    'tiktok',
    'pinterest',
    'reddit',
    'snapchat',
    'youtube',
  ],
  hosts: ['t.co'],
};

const emailWords = ['email', 'e-mail', 'newsletter'];

/** ANALYTICS.md's table, row by row, in its order. */
export const defaultChannelRules: readonly ChannelRule[] = [
  {
    channel: 'paid_search',
    when: [{ medium: ['cpc', 'ppc', 'paidsearch'], sourceIs: searchEngines }],
  },
  {
    channel: 'paid_social',
    when: [
      { medium: ['paidsocial', 'paid_social', 'paid-social'] },
      { medium: ['cpc', 'ppc', 'paid'], sourceIs: socialNetworks },
    ],
  },
  { channel: 'display', when: [{ medium: ['display', 'cpm', 'banner', 'interstitial'] }] },
  { channel: 'email', when: [{ medium: emailWords }, { source: emailWords }] },
  { channel: 'affiliate', when: [{ medium: ['affiliate'] }] },
  {
    channel: 'organic_search',
    when: [{ medium: ['organic'] }, { utm: false, referrer: searchEngines }],
  },
  {
    channel: 'organic_social',
    when: [
      { medium: ['social', 'social-network', 'sm'] },
      { utm: false, referrer: socialNetworks },
    ],
  },
  { channel: 'referral', when: [{ medium: ['referral'] }, { utm: false, referrer: 'any' }] },
  { channel: 'other', when: [{ utm: true }] },
  { channel: 'direct', when: [{ utm: false, referrer: 'none' }] },
];

export interface TouchInput {
  readonly utm: Utm | null;
  readonly referrer: string | null;
  readonly pageUrl: string | null;
}

/** A referrer from another host. `host` is null when the referrer is no parseable URL. */
export interface ExternalReferrer {
  readonly raw: string;
  readonly host: string | null;
}

export function classifyChannel(input: TouchInput, rules?: readonly ChannelRule[]): Channel;
export function classifyChannel(input: TouchInput, rules: readonly ChannelRule<string>[]): string;
export function classifyChannel(
  input: TouchInput,
  rules: readonly ChannelRule<string>[] = defaultChannelRules,
): string {
  const touch = normaliseTouch(input);
  const rule = rules.find(({ when }) => when.some((condition) => holds(condition, touch)));
  return rule?.channel ?? 'other';
}

/** The UTM value trimmed, or null when absent or blank. */
export function utmValue(value: string | null | undefined): string | null {
  const trimmed = value?.trim() ?? '';
  return trimmed === '' ? null : trimmed;
}

export function hasUtm(utm: Utm | null): boolean {
  if (utm === null) return false;
  return [utm.source, utm.medium, utm.name, utm.term, utm.content].some(
    (value) => utmValue(value) !== null,
  );
}

/** The referrer unless it is blank or comes from the page's own host. */
export function externalReferrer(
  referrer: string | null,
  pageUrl: string | null,
): ExternalReferrer | null {
  const raw = referrer?.trim() ?? '';
  if (raw === '') return null;
  const host = hostOf(raw);
  if (host !== null && pageUrl !== null && host === hostOf(pageUrl.trim())) return null;
  return { raw, host };
}

interface NormalisedTouch {
  readonly utmPresent: boolean;
  readonly medium: string | null;
  readonly source: string | null;
  readonly referrer: ExternalReferrer | null;
}

function normaliseTouch({ utm, referrer, pageUrl }: TouchInput): NormalisedTouch {
  return {
    utmPresent: hasUtm(utm),
    medium: utmValue(utm?.medium)?.toLowerCase() ?? null,
    source: utmValue(utm?.source)?.toLowerCase() ?? null,
    referrer: externalReferrer(referrer, pageUrl),
  };
}

function holds(condition: ChannelCondition, touch: NormalisedTouch): boolean {
  const { medium, source, sourceIs, utm, referrer } = condition;
  if (utm !== undefined && utm !== touch.utmPresent) return false;
  if (medium !== undefined && !isOneOf(touch.medium, medium)) return false;
  if (source !== undefined && !isOneOf(touch.source, source)) return false;
  if (sourceIs !== undefined && !isHostOfKind(touch.source, sourceIs)) return false;
  if (referrer !== undefined && !referrerMatches(touch.referrer, referrer)) return false;
  return true;
}

function referrerMatches(
  actual: ExternalReferrer | null,
  expected: NonNullable<ChannelCondition['referrer']>,
): boolean {
  if (expected === 'none') return actual === null;
  if (expected === 'any') return actual !== null;
  return actual !== null && isHostOfKind(actual.host, expected);
}

function isOneOf(value: string | null, candidates: readonly string[]): boolean {
  return value !== null && candidates.some((candidate) => candidate.toLowerCase() === value);
}

/** `value` is a lower-case host or UTM source. */
function isHostOfKind(value: string | null, kind: HostMatcher): boolean {
  if (value === null) return false;
  if (isOneOf(value, kind.hosts ?? [])) return true;
  return value.split('.').some((label) => isOneOf(label, kind.labels));
}

function hostOf(url: string): string | null {
  if (!URL.canParse(url)) return null;
  const hostname = new URL(url).hostname.toLowerCase().replace(/\.$/, '');
  return hostname === '' ? null : hostname;
}
