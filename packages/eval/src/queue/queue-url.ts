/**
 * The queue's address, `redis://[[user]:password@]host[:port][/db]` (`rediss://` for TLS), or
 * `env:NAME` to read it from an environment variable (so a password stays out of the process
 * list). A password never reaches output or files: `redactUrl` masks it in any text — the
 * credentials of every redis URL in it, and every password this process has been given, however
 * it is spelled (an ioredis or BullMQ error could quote it) — and everything this package prints
 * or writes about the queue goes through it.
 */
import { UsageError } from '../usage-error.js';

export interface QueueAddress {
  readonly tls: boolean;
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly username?: string;
  readonly password?: string;
  /** The URL as output and files show it: the password as `***`. */
  readonly shown: string;
}

export const QUEUE_URL_FORM = 'redis://[:password@]host[:port][/db] or rediss://… (TLS)';
const DEFAULT_PORT = 6379;
const DB_MAX = 2 ** 31 - 1;
const MASK = '***';

/** Passwords given to this process, each as written and as decoded. */
const secrets = new Set<string>();

/**
 * The credentials of a redis URL: everything between `://` and the last `@` of a run of
 * non-space characters (not a `[`, which starts a usage line's `[:password@]`).
 */
const URL_CREDENTIALS = /(rediss?:\/\/)([^\s[]\S*)@/gi;

/**
 * `text` with the password of every redis URL in it, and every password given to this process,
 * replaced by `***`. Used on every line and file that could carry the queue's address.
 */
export function redactUrl(text: string): string {
  let out = text;
  // The passwords first, whole (longest first, so one that contains another is masked whole):
  // one with a space in it would otherwise be cut by the URL pattern and its tail left.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length))
    out = out.split(secret).join(MASK);
  return out.replace(URL_CREDENTIALS, (_all, scheme: string, credentials: string) => {
    const colon = credentials.indexOf(':');
    // `user:password` keeps the user; `:password` and a bare `password` keep nothing.
    return `${scheme}${colon > 0 ? `${credentials.slice(0, colon)}:` : colon === 0 ? ':' : ''}${MASK}@`;
  });
}

function remember(password: string): void {
  secrets.add(password);
  try {
    secrets.add(decodeURIComponent(password));
  } catch {
    // Not valid percent-encoding: the raw form is masked, and the URL is refused below.
  }
}

/**
 * Parses `--queue` (or `what`) strictly: the scheme, a host, a port 1…65535, a database number,
 * no query or fragment. Every mistake is a UsageError that shows the value redacted.
 */
export function parseQueueUrl(
  text: string,
  what = '--queue',
  env: NodeJS.ProcessEnv = process.env,
): QueueAddress {
  let value = text.trim();
  let origin = '';
  const fromEnv = /^env:(.*)$/.exec(value);
  if (fromEnv) {
    const name = fromEnv[1]!;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new UsageError(
        `${what} ${JSON.stringify(value)}: ${JSON.stringify(name)} is not an environment variable name`,
      );
    const found = env[name];
    if (found === undefined || found.trim() === '')
      throw new UsageError(`${what} ${value}: the environment variable ${name} is not set`);
    value = found.trim();
    origin = ` (from ${name})`;
  }
  // Before anything can quote it, whatever the scheme (a mistyped one too): all up to the last
  // `@`, which is what the user meant even where a URL parser would end the host earlier.
  const credentials = /^[a-z][a-z0-9+.-]*:\/\/(.*)@/is.exec(value)?.[1];
  if (credentials !== undefined) {
    const colon = credentials.indexOf(':');
    if (colon >= 0 && colon < credentials.length - 1) remember(credentials.slice(colon + 1));
    else if (colon < 0 && credentials) remember(credentials);
  }
  const refuse = (problem: string) =>
    new UsageError(
      `${what} ${JSON.stringify(redactUrl(value))}${origin} ${problem}; expected ${QUEUE_URL_FORM}`,
    );
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
  if (scheme !== 'redis' && scheme !== 'rediss')
    throw refuse(scheme ? `has the scheme ${scheme}://` : 'is not a URL');
  // A URL parser would end the host at these and read the password's tail as a path.
  if (credentials !== undefined && /[/?#\s]/.test(credentials))
    throw refuse(
      'has a user or password with a character a URL must percent-encode (/, ?, #, a space); write it encoded (encodeURIComponent)',
    );
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refuse('is not a valid URL');
  }
  if (url.search || url.hash) throw refuse('has a query or fragment, which mean nothing here');
  if (!url.hostname) throw refuse('has no host');
  if (url.username && !url.password)
    throw refuse(`has a user but no password (give it as ${scheme}://user:password@host)`);
  if (url.port === '0') throw refuse('has port 0');
  const path = url.pathname.replace(/^\//, '');
  if (path.includes('/')) throw refuse('has a path; only a database number may follow the host');
  if (path !== '' && (!/^\d+$/.test(path) || Number(path) > DB_MAX))
    throw refuse(`names the database ${JSON.stringify(path)}, not an integer from 0 to ${DB_MAX}`);
  const db = path === '' ? 0 : Number(path);
  let username: string | undefined;
  let password: string | undefined;
  try {
    username = url.username ? decodeURIComponent(url.username) : undefined;
    password = url.password ? decodeURIComponent(url.password) : undefined;
  } catch {
    throw refuse('has invalid percent-encoding in its user or password');
  }
  const port = url.port ? Number(url.port) : DEFAULT_PORT;
  // IPv6 hosts come bracketed from URL; the client wants them bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const userinfo = password !== undefined ? `${url.username}:${MASK}@` : '';
  return {
    tls: scheme === 'rediss',
    host,
    port,
    db,
    ...(username !== undefined && { username }),
    ...(password !== undefined && { password }),
    shown: `${scheme}://${userinfo}${url.hostname}:${port}/${db}`,
  };
}
