import { IngestionPriority } from '../../src/infra/shared/ingestion-priority';

describe('IngestionPriority', () => {
  it('lets a projector batch go at once when no tracking request is in flight', async () => {
    const priority = new IngestionPriority(60_000);
    await expect(priority.yieldToIngestion()).resolves.toBeUndefined();
  });

  it('holds projector batches while requests are in flight and releases them when the last is answered', async () => {
    const priority = new IngestionPriority(60_000);
    const first = priority.begin();
    const second = priority.begin();
    let released = false;
    const waiting = priority.yieldToIngestion().then(() => {
      released = true;
    });
    first();
    first(); // answering twice counts once
    await new Promise((resolve) => setImmediate(resolve));
    expect(released).toBe(false);
    second();
    await waiting;
    expect(released).toBe(true);
  });

  it('never holds a batch longer than its bound', async () => {
    jest.useFakeTimers();
    try {
      const priority = new IngestionPriority(50);
      priority.begin();
      const waiting = priority.yieldToIngestion();
      jest.advanceTimersByTime(50);
      await expect(waiting).resolves.toBeUndefined();
    } finally {
      jest.useRealTimers();
    }
  });
});
