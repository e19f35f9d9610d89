import { Query, Resolver } from 'type-graphql';
import { defaultChannelRules } from '../../projections/touchpoints/channels';
import { ChannelRuleView } from './channel-rules.types';

@Resolver()
export class ChannelRulesResolver {
  @Query(() => [ChannelRuleView], {
    description:
      'The channel table the live read models classify touches with (ANALYTICS.md, Channels), in order. The same shape as ChannelRuleInput: copy it, edit it and send it as `channelRules` to an attribution query to see what another table would give.',
  })
  defaultChannelRules(): ChannelRuleView[] {
    return defaultChannelRules.map((rule) => ChannelRuleView.of(rule));
  }
}
