/**
 * Errors the domain raises when a rule is broken. Each carries a stable code that the
 * GraphQL layer maps to `extensions.code`, and the field it concerns when there is one.
 */
export type DomainErrorKind = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'CONFLICT';

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    /** Stable machine-readable reason, e.g. `ILLEGAL_TRANSITION`. */
    readonly reason: string,
    message: string,
    /** Path of the input field the error concerns, e.g. `budget.amount`. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export class ValidationError extends DomainError {
  constructor(field: string, message: string, reason = 'INVALID_INPUT') {
    super('BAD_USER_INPUT', reason, message, field);
    this.name = 'ValidationError';
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string, id: string) {
    super('NOT_FOUND', 'NOT_FOUND', `${what} ${id} does not exist`, 'id');
    this.name = 'NotFoundError';
  }
}

export class IllegalStateError extends DomainError {
  constructor(message: string, reason = 'ILLEGAL_TRANSITION') {
    super('CONFLICT', reason, message);
    this.name = 'IllegalStateError';
  }
}
