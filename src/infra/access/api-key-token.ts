/**
 * What an API key looks like on the wire: `tl.<workspace>.<key id>.<secret>`, the workspace
 * in base64url so any workspace id fits between the dots. Only the SHA-256 of the secret is
 * stored; the secret has 256 random bits, so a fast hash is enough (no key stretching is
 * needed for a secret nobody chose) and a lookup costs microseconds.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const prefix = 'tl';
const keyIdBytes = 8;
const secretBytes = 32;
/** Longest token accepted for parsing: a workspace id of 100 characters and the rest. */
const maxTokenLength = 256;

export interface ApiKeyToken {
  readonly workspaceId: string;
  readonly keyId: string;
  readonly secret: string;
}

export interface NewToken extends ApiKeyToken {
  /** The whole key, shown once to whoever created it. */
  readonly token: string;
  readonly secretHash: string;
}

export function generateToken(workspaceId: string): NewToken {
  const keyId = randomBytes(keyIdBytes).toString('hex');
  const secret = randomBytes(secretBytes).toString('base64url');
  const token = [prefix, Buffer.from(workspaceId).toString('base64url'), keyId, secret].join('.');
  return { token, workspaceId, keyId, secret, secretHash: hashSecret(secret) };
}

/** The parts of a well-formed token; null for anything else. */
export function parseToken(token: string): ApiKeyToken | null {
  if (token.length > maxTokenLength) return null;
  const parts = token.split('.');
  if (parts.length !== 4 || parts[0] !== prefix) return null;
  const [, encodedWorkspace, keyId, secret] = parts as [string, string, string, string];
  if (!/^[A-Za-z0-9_-]+$/.test(encodedWorkspace) || !/^[a-f0-9]{16}$/.test(keyId)) return null;
  if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
  const workspaceId = Buffer.from(encodedWorkspace, 'base64url').toString('utf8');
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(workspaceId)) return null;
  return { workspaceId, keyId, secret };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Compares a secret with a stored hash in constant time. */
export function secretMatches(secret: string, secretHash: string): boolean {
  const expected = Buffer.from(secretHash, 'hex');
  const actual = createHash('sha256').update(secret).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * The key an Authorization header carries: `Bearer <key>`, or `Basic base64(<key>:)` as
 * Segment's SDKs send their write key. Undefined when there is no header (a missing key);
 * '' for a header that holds no key Touchline can read (another scheme, no credentials),
 * which then fails as an invalid key on every transport.
 */
export function keyFromAuthorization(header: string | undefined): string | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const [scheme, credentials] = header.trim().split(/\s+/, 2);
  if (!credentials) return '';
  if (/^bearer$/i.test(scheme ?? '')) return credentials;
  if (!/^basic$/i.test(scheme ?? '')) return '';
  const decoded = Buffer.from(credentials, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? decoded : decoded.slice(0, colon);
}
