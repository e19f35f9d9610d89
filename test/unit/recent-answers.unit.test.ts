import { RecentAnswers } from '../../src/infra/shared/recent-answers';

describe('RecentAnswers', () => {
  it('shares the answer of a kept key, even while it is computed', async () => {
    const recent = new RecentAnswers<number>(2);
    const compute = jest.fn(() => Promise.resolve(7));
    const [first, second] = [recent.get('a', compute), recent.get('a', compute)];
    expect(await first).toBe(7);
    expect(await second).toBe(7);
    expect(compute).toHaveBeenCalledTimes(1);
  });

  it('drops the least recently asked key beyond the bound', async () => {
    const recent = new RecentAnswers<string>(2);
    const compute = jest.fn((key: string) => Promise.resolve(key));
    await recent.get('a', () => compute('a'));
    await recent.get('b', () => compute('b'));
    await recent.get('a', () => compute('a')); // a is now the most recent
    await recent.get('c', () => compute('c')); // drops b
    await recent.get('a', () => compute('a'));
    await recent.get('b', () => compute('b'));
    expect(compute.mock.calls.map(([key]) => key)).toEqual(['a', 'b', 'c', 'b']);
  });

  it('does not keep a failed answer', async () => {
    const recent = new RecentAnswers<number>(2);
    await expect(
      recent.get('a', () => Promise.reject(new Error('log unreachable'))),
    ).rejects.toThrow('log unreachable');
    expect(await recent.get('a', () => Promise.resolve(1))).toBe(1);
  });
});
