/**
 * Property conditions as the API speaks them (funnel step filters, and segments after
 * them): operator names in GraphQL's enum style, values as JSON.
 */
import { GraphQLJSON } from 'graphql-scalars';
import { Field, InputType, ObjectType, registerEnumType } from 'type-graphql';
import {
  conditionOperators,
  type ConditionOperator as DomainOperator,
  type PropertyCondition,
  type PropertyConditionInput,
} from '../../domain/shared/conditions';
import type { JsonValue } from '../../domain/tracking/tracking.events';

/** `notContains` → `NOT_CONTAINS`. */
function enumName(operator: string): string {
  return operator.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase();
}

export const ConditionOperator = Object.fromEntries(
  conditionOperators.map((operator) => [enumName(operator), enumName(operator)]),
) as Record<string, string>;
registerEnumType(ConditionOperator, {
  name: 'ConditionOperator',
  description:
    'Segment operators (ANALYTICS.md, Segments). A missing property satisfies only NEQ, NOT_IN, NOT_CONTAINS and NOT_EXISTS.',
});

const domainByEnum = new Map<string, DomainOperator>(
  conditionOperators.map((operator) => [enumName(operator), operator]),
);

@InputType({ description: 'A condition on one property of an event (or of a contact).' })
export class PropertyFilterInput {
  @Field({
    description:
      'A dot path into the properties (`plan`, `items.0.sku`), or a `$` name of the call: $utm_source, $utm_medium, $utm_campaign, $utm_term, $utm_content, $referrer, $url, $path, $title, $page_name.',
  })
  property!: string;

  @Field(() => ConditionOperator)
  operator!: string;

  @Field(() => GraphQLJSON, {
    nullable: true,
    description:
      'A string, number or boolean; a list for IN / NOT_IN; [low, high] for BETWEEN; a pattern for REGEX; none for EXISTS / NOT_EXISTS. Dates as ISO-8601 strings.',
  })
  value?: unknown;

  @Field({ nullable: true, description: 'String comparisons are case-sensitive unless false.' })
  caseSensitive?: boolean;
}

@ObjectType()
export class PropertyFilter {
  @Field()
  property!: string;

  @Field(() => ConditionOperator)
  operator!: string;

  @Field(() => GraphQLJSON, { nullable: true })
  value!: JsonValue | null;

  @Field()
  caseSensitive!: boolean;

  static from(condition: PropertyCondition): PropertyFilter {
    return Object.assign(new PropertyFilter(), {
      ...condition,
      operator: enumName(condition.operator),
    });
  }
}

/** The domain's input: operators by their domain names (validation happens there). */
export function conditionInput(filter: PropertyFilterInput): PropertyConditionInput {
  return {
    property: filter.property,
    operator: domainByEnum.get(filter.operator) ?? filter.operator,
    value: filter.value,
    caseSensitive: filter.caseSensitive,
  };
}
