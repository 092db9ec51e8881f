/**
 * The queue's address: every form the README gives is read into its parts, a mistake is a
 * usage error that names the problem and shows the value redacted, and `redactUrl` masks a
 * password in any text that carries it (in a URL, or alone, as written or decoded).
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../usage-error.js';
import { parseQueueUrl, redactUrl } from './queue-url.js';

describe('parseQueueUrl', () => {
  it('reads host, port, database, user and password; TLS from rediss://', () => {
    expect(parseQueueUrl('redis://127.0.0.1:6390/2')).toEqual({
      tls: false,
      host: '127.0.0.1',
      port: 6390,
      db: 2,
      shown: 'redis://127.0.0.1:6390/2',
    });
    expect(parseQueueUrl('rediss://:s3cret@queue.example.org')).toEqual({
      tls: true,
      host: 'queue.example.org',
      port: 6379,
      db: 0,
      password: 's3cret',
      shown: 'rediss://:***@queue.example.org:6379/0',
    });
    const withUser = parseQueueUrl('redis://posenc:p%40ss%3Aword@[::1]:7000/');
    expect(withUser).toMatchObject({ host: '::1', port: 7000, db: 0, username: 'posenc' });
    expect(withUser.password).toBe('p@ss:word');
    expect(withUser.shown).toBe('redis://posenc:***@[::1]:7000/0');
  });

  it('reads env:NAME from the environment', () => {
    const env = { POSENC_QUEUE: 'redis://:from-env@10.0.0.5:6379/1' };
    expect(parseQueueUrl('env:POSENC_QUEUE', '--queue', env)).toMatchObject({
      host: '10.0.0.5',
      db: 1,
      password: 'from-env',
    });
    expect(() => parseQueueUrl('env:MISSING', '--queue', env)).toThrow(
      '--queue env:MISSING: the environment variable MISSING is not set',
    );
  });

  it('refuses what is not a queue address, naming the problem, the password masked', () => {
    const cases: [string, RegExp][] = [
      ['localhost:6379', /^--queue "localhost:6379" is not a URL; expected redis:\/\//],
      ['http://:pw@host:6379', /^--queue "http:\/\/:\*\*\*@host:6379" has the scheme http:\/\//],
      [
        'redis://:pw@host:6379/x',
        /^--queue "redis:\/\/:\*\*\*@host:6379\/x" names the database "x"/,
      ],
      ['redis://:pw@host:6379/0/1', /has a path; only a database number may follow the host/],
      ['redis://:pw@host:99999', /is not a valid URL/],
      ['redis://:pw@host:0', /has port 0/],
      ['redis://:pw@host?db=1', /has a query or fragment/],
      ['redis://user@host', /has a user but no password/],
      ['redis://:pw@:6379', /is not a valid URL|has no host/],
      // The user meant all up to the last @; a URL parser would read `/x y@host` as a path.
      [
        'redis://:pw/x y@host:1',
        /^--queue "redis:\/\/:\*\*\*@host:1" has a user or password .* percent-encode/,
      ],
    ];
    for (const [text, pattern] of cases) {
      let error: unknown;
      try {
        parseQueueUrl(text);
      } catch (e) {
        error = e;
      }
      expect(error, text).toBeInstanceOf(UsageError);
      expect((error as Error).message, text).toMatch(pattern);
      expect((error as Error).message, text).not.toContain('pw@');
    }
  });
});

describe('redactUrl', () => {
  it('masks the credentials of every redis URL in a text, keeping a user name', () => {
    expect(redactUrl('connect to redis://:abc@h:1/0 and rediss://bob:xyz@k:2 now')).toBe(
      'connect to redis://:***@h:1/0 and rediss://bob:***@k:2 now',
    );
    // A password with an @ that was not percent-encoded is masked whole.
    expect(redactUrl('posenc worker --queue redis://:a@b@host:1')).toBe(
      'posenc worker --queue redis://:***@host:1',
    );
    expect(redactUrl('no secrets in redis://host:6379/0')).toBe(
      'no secrets in redis://host:6379/0',
    );
  });

  it('leaves the form of a usage line alone', () => {
    expect(redactUrl('expected redis://[:password@]host[:port][/db]')).toBe(
      'expected redis://[:password@]host[:port][/db]',
    );
  });

  it('masks a password given to this process wherever it appears, as written or decoded', () => {
    parseQueueUrl('redis://:Tr0ub%2Fadour@host:6379');
    expect(redactUrl('ReplyError: AUTH Tr0ub/adour failed')).toBe('ReplyError: AUTH *** failed');
    expect(redactUrl('argv: Tr0ub%2Fadour')).toBe('argv: ***');
  });
});
