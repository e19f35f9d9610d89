/**
 * One mapping from what can go wrong to what a client sees: `extensions.code` from
 * DESIGN.md, a stable `reason`, and the `field` concerned. Internal errors are masked
 * unless the server runs in development.
 */
import { GraphQLError } from 'graphql';
import type { MiddlewareFn } from 'type-graphql';
import { DomainError } from '../domain/shared/errors';
import type { TouchlineContext } from './context';

export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'RATE_LIMITED'
  | 'INTERNAL_SERVER_ERROR';

export function userError(
  code: ErrorCode,
  message: string,
  details: { field?: string; reason?: string } = {},
) {
  return new GraphQLError(message, {
    extensions: {
      code,
      ...(details.reason && { reason: details.reason }),
      ...(details.field && { field: details.field }),
    },
  });
}

export function badInput(field: string, message: string, reason = 'INVALID_INPUT'): GraphQLError {
  return userError('BAD_USER_INPUT', message, { field, reason });
}

/** Turns anything a resolver threw into a GraphQLError a client may see. */
export function toClientError(
  error: unknown,
  context: Pick<TouchlineContext, 'services'>,
): GraphQLError {
  if (error instanceof GraphQLError) return error;
  if (error instanceof DomainError) {
    return userError(error.kind, error.message, { field: error.field, reason: error.reason });
  }
  context.services.reportInternalError(error);
  const message =
    context.services.exposeInternalErrors && error instanceof Error
      ? error.message
      : 'Internal server error';
  return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}

/** Global middleware: every resolver's failure goes through `toClientError`. */
export const mapErrors: MiddlewareFn<TouchlineContext> = async ({ context }, next) => {
  try {
    return await next();
  } catch (error) {
    throw toClientError(error, context);
  }
};
