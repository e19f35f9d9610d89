import { IngestionPriority } from '../../src/infra/shared/ingestion-priority';

describe('IngestionPriority', () => {
  afterEach(() => jest.useRealTimers());

  function tracked(options: { quietMs?: number; backlog?: number } = {}) {
    const changes: boolean[] = [];
    const priority = new IngestionPriority({
      ...options,
      onBusyChange: (busy) => changes.push(busy),
    });
    return { priority, changes };
  }

  it('is idle until a tracking request is in flight', () => {
    const { priority, changes } = tracked();
    expect(priority.busy).toBe(false);
    priority.begin();
    expect(priority.busy).toBe(true);
    expect(changes).toEqual([true]);
  });

  it('turns idle when the last request in flight is answered, once per request', () => {
    const { priority, changes } = tracked();
    const first = priority.begin();
    const second = priority.begin();
    first();
    first(); // answering twice counts once
    expect(priority.busy).toBe(true);
    second();
    expect(priority.busy).toBe(false);
    expect(changes).toEqual([true, false]);
  });

  it('stays busy through a gap shorter than its quiet period', () => {
    jest.useFakeTimers();
    const { priority, changes } = tracked({ quietMs: 20 });
    priority.begin()();
    jest.advanceTimersByTime(15);
    const next = priority.begin();
    jest.advanceTimersByTime(30);
    expect(priority.busy).toBe(true);
    next();
    jest.advanceTimersByTime(19);
    expect(priority.busy).toBe(true);
    jest.advanceTimersByTime(1);
    expect(priority.busy).toBe(false);
    expect(changes).toEqual([true, false]);
  });

  it('counts as busy only from `backlog` requests in flight', () => {
    const { priority, changes } = tracked({ backlog: 2 });
    const first = priority.begin();
    expect(priority.busy).toBe(false);
    const second = priority.begin();
    expect(priority.busy).toBe(true);
    second();
    expect(priority.busy).toBe(false);
    first();
    expect(changes).toEqual([true, false]);
  });
});
