export * from './campaign.commands';
export * from './campaign.events';
export { campaignLimits } from './campaign.input';
export { campaignContentLimits, parseContent, parseContentSurface } from './campaign.content';
export * from './campaign.state';
export { campaignDecider, decide, duplicateCampaignInput } from './campaign.decider';
export * from './campaign.stream';
export * from './budget';
