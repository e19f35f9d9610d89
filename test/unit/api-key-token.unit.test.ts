/**
 * API keys on the wire: `tl.<base64url workspace>.<key id>.<secret>`. A token made by
 * generateToken parses back to its parts, anything else parses to null, and only the hash of
 * the secret is needed to check it.
 */
import {
  generateToken,
  hashSecret,
  keyFromAuthorization,
  parseToken,
  secretMatches,
} from '../../src/infra/access/api-key-token';

const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

describe('API key tokens', () => {
  describe('generateToken and parseToken', () => {
    it.each(['default', 'acme', 'a', 'Acme_Corp.eu-1', 'w'.repeat(100)])(
      'round-trips a key of workspace %s',
      (workspaceId) => {
        const fresh = generateToken(workspaceId);
        expect(fresh.token.split('.')).toEqual([
          'tl',
          Buffer.from(workspaceId).toString('base64url'),
          fresh.keyId,
          fresh.secret,
        ]);
        expect(fresh.keyId).toMatch(/^[a-f0-9]{16}$/);
        expect(fresh.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(fresh.secretHash).toBe(hashSecret(fresh.secret));
        expect(parseToken(fresh.token)).toEqual({
          workspaceId,
          keyId: fresh.keyId,
          secret: fresh.secret,
        });
      },
    );

    it('makes a new key id and secret each time', () => {
      const [a, b] = [generateToken('acme'), generateToken('acme')];
      expect(a.keyId).not.toBe(b.keyId);
      expect(a.secret).not.toBe(b.secret);
    });

    describe('refuses what is not a token', () => {
      const { token, keyId, secret } = generateToken('acme');
      const workspace = Buffer.from('acme').toString('base64url');
      const cases: [string, string][] = [
        ['another prefix', `tk.${workspace}.${keyId}.${secret}`],
        ['an upper-case prefix', `TL.${workspace}.${keyId}.${secret}`],
        ['three parts', `tl.${workspace}.${keyId}`],
        ['five parts', `${token}.extra`],
        ['an empty workspace', `tl..${keyId}.${secret}`],
        ['a workspace that is not base64url', `tl.ac+me.${keyId}.${secret}`],
        [
          'a workspace id with characters a workspace may not have',
          `tl.${Buffer.from('a:b').toString('base64url')}.${keyId}.${secret}`,
        ],
        ['a short key id', `tl.${workspace}.${keyId.slice(1)}.${secret}`],
        [
          'an upper-case key id',
          `tl.${workspace}.${keyId.toUpperCase().replace(/^./, 'A')}.${secret}`,
        ],
        ['a short secret', `tl.${workspace}.${keyId}.${secret.slice(1)}`],
        ['a long secret', `tl.${workspace}.${keyId}.${secret}A`],
        ['a secret with other characters', `tl.${workspace}.${keyId}.${secret.slice(1)}=`],
        ['a space around it', ` ${token}`],
        ['nothing', ''],
      ];
      it.each(cases)('%s', (_what, candidate) => {
        expect(parseToken(candidate)).toBeNull();
      });

      it('an overlong token, before looking at it', () => {
        const longWorkspace = Buffer.from('w'.repeat(200)).toString('base64url');
        expect(parseToken(`tl.${longWorkspace}.${keyId}.${secret}`)).toBeNull();
        expect(parseToken(`${token}${'x'.repeat(300)}`)).toBeNull();
      });
    });
  });

  describe('secretMatches', () => {
    const { secret, secretHash } = generateToken('acme');

    it('holds for the secret of the hash', () => {
      expect(secretMatches(secret, secretHash)).toBe(true);
    });

    it('fails for another secret, a truncated hash, or a hash that is not hex', () => {
      expect(secretMatches(generateToken('acme').secret, secretHash)).toBe(false);
      expect(secretMatches(secret, secretHash.slice(0, 62))).toBe(false);
      expect(secretMatches(secret, '')).toBe(false);
      expect(secretMatches(secret, 'z'.repeat(64))).toBe(false);
    });
  });

  describe('keyFromAuthorization', () => {
    const { token } = generateToken('acme');

    it('reads a Bearer token, whatever the scheme’s case and the spaces around', () => {
      expect(keyFromAuthorization(`Bearer ${token}`)).toBe(token);
      expect(keyFromAuthorization(`bearer ${token}`)).toBe(token);
      expect(keyFromAuthorization(`  BEARER   ${token}  `)).toBe(token);
    });

    it('reads the Basic user, with an empty password as Segment’s SDKs send it', () => {
      expect(keyFromAuthorization(basic(`${token}:`))).toBe(token);
      expect(keyFromAuthorization(basic(`${token}:ignored`))).toBe(token);
    });

    it('reads a Basic credential without a colon as the key', () => {
      expect(keyFromAuthorization(basic(token))).toBe(token);
      expect(keyFromAuthorization(`basic ${Buffer.from(token).toString('base64')}`)).toBe(token);
    });

    it('reads no key from no header or a blank one (a missing key)', () => {
      expect(keyFromAuthorization(undefined)).toBeUndefined();
      expect(keyFromAuthorization('')).toBeUndefined();
      expect(keyFromAuthorization('   ')).toBeUndefined();
    });

    it('reads an empty key from another scheme or a scheme without credentials (an invalid key)', () => {
      expect(keyFromAuthorization('Bearer')).toBe('');
      expect(keyFromAuthorization('Bearer ')).toBe('');
      expect(keyFromAuthorization(`Token ${token}`)).toBe('');
      expect(keyFromAuthorization(`Digest ${token}`)).toBe('');
      expect(keyFromAuthorization(token)).toBe('');
    });
  });
});
