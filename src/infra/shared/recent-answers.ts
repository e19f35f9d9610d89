/**
 * The last few answers of an expensive computation (a replay of the log), by key: asking
 * again for a kept key, even while it is still being computed, shares its promise; the least
 * recently asked is dropped beyond `kept`, and a failed answer is not kept.
 */
export class RecentAnswers<T> {
  private readonly answers = new Map<string, Promise<T>>();

  constructor(private readonly kept: number) {}

  get(key: string, compute: () => Promise<T>): Promise<T> {
    let answer = this.answers.get(key);
    if (answer === undefined) {
      answer = compute();
      answer.catch(() => {
        if (this.answers.get(key) === answer) this.answers.delete(key);
      });
    } else {
      this.answers.delete(key); // set again below, as the most recently asked
    }
    this.answers.set(key, answer);
    if (this.answers.size > this.kept) {
      this.answers.delete(this.answers.keys().next().value as string);
    }
    return answer;
  }
}
