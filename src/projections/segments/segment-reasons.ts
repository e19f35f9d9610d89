/**
 * Why a membership changed: which leaf conditions of the tree answer differently than before,
 * by their path in the tree (`conditions.0.conditions.1`, as validation errors name them) and
 * in words.
 */
import {
  evaluate,
  type ConditionNode,
  type IsMember,
  type PointInTime,
  type SegmentContact,
} from '../../domain/segment/condition-tree';
import type { SegmentChangeReason } from './segment-documents';

type Leaf = Exclude<ConditionNode, { kind: 'and' | 'or' | 'not' }>;

interface PathedLeaf {
  readonly path: string;
  readonly leaf: Leaf;
}

const leavesByTree = new WeakMap<ConditionNode, readonly PathedLeaf[]>();

/** The tree's leaf conditions with their paths (kept per tree: trees are evaluated often). */
export function leavesOf(tree: ConditionNode): readonly PathedLeaf[] {
  let leaves = leavesByTree.get(tree);
  if (leaves === undefined) {
    const found: PathedLeaf[] = [];
    const visit = (node: ConditionNode, path: string): void => {
      const at = (key: string | number) => (path === '' ? String(key) : `${path}.${key}`);
      switch (node.kind) {
        case 'and':
        case 'or':
          node.conditions.forEach((child, index) => visit(child, at(`conditions.${index}`)));
          return;
        case 'not':
          visit(node.condition, at('condition'));
          return;
        default:
          found.push({ path: path === '' ? 'conditions' : `conditions.${path}`, leaf: node });
      }
    };
    visit(tree, '');
    leaves = found;
    leavesByTree.set(tree, leaves);
  }
  return leaves;
}

export interface EvaluationPoint {
  readonly contact: SegmentContact;
  readonly now: number;
  readonly isMember: IsMember;
}

/** The leaves whose answer differs between two points (contact, instant, memberships). */
export function flippedLeaves(
  tree: ConditionNode,
  before: EvaluationPoint,
  after: EvaluationPoint,
): PathedLeaf[] {
  return leavesOf(tree).filter(
    ({ leaf }) =>
      evaluate(leaf, before.contact, before.now, before.isMember) !==
      evaluate(leaf, after.contact, after.now, after.isMember),
  );
}

/** A `conditions` or `time` reason from the leaves that flipped. */
export function leafReason(
  cause: 'conditions' | 'time',
  entered: boolean,
  flipped: readonly PathedLeaf[],
): SegmentChangeReason {
  const verb = entered ? 'entered' : 'left';
  const because =
    flipped.length === 0
      ? cause === 'time'
        ? 'time passed'
        : 'the contact changed'
      : flipped.map(({ leaf }) => describeLeaf(leaf)).join('; ');
  return {
    cause,
    conditions: flipped.map(({ path }) => path),
    text: `${verb}: ${because}${cause === 'time' && flipped.length > 0 ? ' (time passed)' : ''}`,
  };
}

export function plainReason(
  cause: Exclude<SegmentChangeReason['cause'], 'conditions' | 'time'>,
  text: string,
): SegmentChangeReason {
  return { cause, conditions: [], text };
}

/** A leaf condition in words, e.g. `performed "Signed Up" at least 1 time in the last 7 days`. */
export function describeLeaf(leaf: Leaf): string {
  switch (leaf.kind) {
    case 'trait': {
      const { property, operator, value } = leaf.condition;
      if (operator === 'withinLastDays') return `${property} within the last ${value} days`;
      if (operator === 'moreThanDaysAgo') return `${property} more than ${value} days ago`;
      return value === undefined
        ? `${property} ${operator}`
        : `${property} ${operator} ${JSON.stringify(value)}`;
    }
    case 'performed': {
      const { op, value } = leaf.count;
      const count = `${{ atLeast: 'at least', atMost: 'at most', exactly: 'exactly' }[op]} ${value} time${value === 1 ? '' : 's'}`;
      const window =
        leaf.window === null
          ? ''
          : 'lastDays' in leaf.window
            ? ` in the last ${leaf.window.lastDays} days`
            : ` since ${leaf.window.since}`;
      return `performed "${leaf.event}"${filtersText(leaf.filters.length)} ${count}${window}`;
    }
    case 'neverPerformed':
      return `never performed "${leaf.event}"${filtersText(leaf.filters.length)}`;
    case 'firstPerformedWithin':
      return `first performed "${leaf.event}" within the last ${leaf.days} days`;
    case 'totalRevenue':
      return `total revenue in ${leaf.currency} ${amountText(leaf.op, leaf.value)}`;
    case 'conversionCount':
      return `conversion count ${amountText(leaf.op, leaf.value)}`;
    case 'lastSeen':
      return [
        leaf.after === undefined ? null : `last seen at or after ${pointText(leaf.after)}`,
        leaf.before === undefined ? null : `last seen before ${pointText(leaf.before)}`,
      ]
        .filter((part) => part !== null)
        .join(' and ');
    case 'memberOf':
      return `member of segment ${leaf.segmentId}`;
    default: {
      const _exhaustive: never = leaf;
      return _exhaustive;
    }
  }
}

function filtersText(count: number): string {
  return count === 0 ? '' : ` (${count} filter${count === 1 ? '' : 's'})`;
}

function amountText(op: string, value: number | readonly [number, number]): string {
  return typeof value === 'number' ? `${op} ${value}` : `between ${value[0]} and ${value[1]}`;
}

function pointText(point: PointInTime): string {
  return typeof point === 'string' ? point : `${point.daysAgo} days ago`;
}
