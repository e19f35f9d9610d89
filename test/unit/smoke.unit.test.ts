import { matchesFilter } from '../../src/infra/event-store/event-store';

describe('matchesFilter', () => {
  it('keeps events of the listed types only', () => {
    expect(matchesFilter({ type: 'A', streamId: 's' }, { eventTypes: ['A'] })).toBe(true);
    expect(matchesFilter({ type: 'B', streamId: 's' }, { eventTypes: ['A'] })).toBe(false);
  });
});
