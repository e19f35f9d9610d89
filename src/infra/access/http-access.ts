/**
 * API keys on the HTTP endpoints: one middleware authenticates the `Authorization` header,
 * checks the key's role may do what the endpoint does, and, for endpoints that cost, takes
 * from the key's rate limit. Refusals have GraphQL's error shape, as every error Touchline
 * answers: 401 UNAUTHENTICATED, 403 FORBIDDEN, 429 RATE_LIMITED with `Retry-After`.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { type Capability, roleMay } from '../../domain/workspace';
import { type AccessControl, AuthenticationError, type Principal } from './access-control';
import { keyFromAuthorization } from './api-key-token';
import type { RateDecision, RateLimiter } from './rate-limiter';

export class AccessRefusal extends Error {
  constructor(
    readonly status: 401 | 403 | 429,
    readonly code: 'UNAUTHENTICATED' | 'FORBIDDEN' | 'RATE_LIMITED',
    readonly reason: string,
    message: string,
    /** For 429: when the key may try again. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'AccessRefusal';
  }

  /** Seconds for the `Retry-After` header and `extensions.retryAfter`. */
  get retryAfterSeconds(): number | undefined {
    return this.retryAfterMs === undefined
      ? undefined
      : Math.max(1, Math.ceil(this.retryAfterMs / 1000));
  }
}

/** The refusal an authentication failure is answered with; undefined for other errors. */
export function toAccessRefusal(error: unknown): AccessRefusal | undefined {
  if (error instanceof AccessRefusal) return error;
  if (error instanceof AuthenticationError) {
    return new AccessRefusal(401, 'UNAUTHENTICATED', error.reason, error.message);
  }
  return undefined;
}

/** Throws a 403 when the principal's role may not use `capability`. */
export function requireCapability(principal: Principal, capability: Capability): void {
  if (!roleMay(principal.role, capability)) {
    throw new AccessRefusal(
      403,
      'FORBIDDEN',
      'ROLE_NOT_ALLOWED',
      `a ${principal.role} key may not do this: it needs a key allowed to ${capability}`,
    );
  }
}

/** The 429 a rate limiter's refusal is answered with; null when the key may go on. */
export function rateRefusal(decision: RateDecision): AccessRefusal | null {
  if (decision.allowed) return null;
  return new AccessRefusal(
    429,
    'RATE_LIMITED',
    'RATE_LIMITED',
    'this key sends more than its rate limit allows: retry later',
    decision.retryAfterMs,
  );
}

/**
 * Authenticates the request's key, checks its capability, and takes one from `limiter`;
 * the principal is then `res.locals.principal`. With `optional`, a request without an
 * Authorization header goes on unauthenticated (the tracking endpoints also read a key
 * from the body).
 */
export function requireKey(
  accessControl: AccessControl,
  /** null: authentication only (GraphQL checks each operation's fields itself). */
  capability: Capability | null,
  options: { readonly limiter?: RateLimiter; readonly optional?: boolean } = {},
): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const header = req.header('authorization');
    if (options.optional && (header === undefined || header.trim() === '')) return next();
    accessControl
      .authenticate(keyFromAuthorization(header))
      .then((principal) => {
        if (capability) requireCapability(principal, capability);
        const limited = options.limiter && rateRefusal(options.limiter.take(principal.keyId));
        if (limited) throw limited;
        res.locals.principal = principal;
        next();
      })
      .catch((error: unknown) => {
        const refusal = toAccessRefusal(error);
        if (refusal) sendRefusal(res, refusal);
        else next(error);
      });
  };
}

/** The principal `requireKey` authenticated. */
export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new Error('the request was not authenticated (requireKey missing)');
  return principal;
}

function sendRefusal(res: Response, refusal: AccessRefusal): void {
  if (refusal.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="touchline"');
  const retryAfter = refusal.retryAfterSeconds;
  if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
  res.status(refusal.status).json({
    errors: [
      {
        message: refusal.message,
        extensions: {
          code: refusal.code,
          reason: refusal.reason,
          ...(retryAfter !== undefined && { retryAfter }),
        },
      },
    ],
  });
}
