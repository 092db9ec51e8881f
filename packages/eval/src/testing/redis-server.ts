/**
 * A real Redis for the tests and the load check: Debian's `redis-server` (installed with apt-get
 * when it is missing), started on a free loopback port in a temporary folder, with the append-only
 * file on so a restart keeps the queue (as the README tells users to run it), optionally with a
 * password and TLS (a self-signed certificate made with openssl for 127.0.0.1). `stop()` ends it
 * and removes its folder.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServerOptions {
  password?: string;
  /** Serve TLS only (rediss://); clients trust `caFile` (NODE_EXTRA_CA_CERTS). */
  tls?: boolean;
}

export interface RedisServer {
  readonly port: number;
  /** `redis://…` or `rediss://…` with the password, database 0. */
  readonly url: string;
  /** The certificate clients must trust, with TLS. */
  readonly caFile?: string;
  /** `url` for another database of the same server. */
  urlOf(db: number): string;
  /** Stops the server (it writes its append-only file) and starts it again on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function hasRedis(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Installs Debian's redis-server if it is not there (the tests run as root, as CI does). */
export function ensureRedisInstalled(): void {
  if (hasRedis()) return;
  const apt = (args: string[]) =>
    execFileSync('apt-get', args, {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  // Test files run in parallel: a second installer waits for the first one's dpkg lock.
  const install = ['-o', 'DPkg::Lock::Timeout=900', 'install', '-y', '--no-install-recommends'];
  try {
    apt([...install, 'redis-server']);
  } catch {
    apt(['-o', 'DPkg::Lock::Timeout=900', 'update']);
    apt([...install, 'redis-server']);
  }
  if (!hasRedis()) throw new Error('redis-server is still missing after apt-get install');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function makeCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'redis.crt');
  const key = join(dir, 'redis.key');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

/** Starts redis-server and resolves once it accepts connections. */
function launch(args: string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('Ready to accept connections')) {
        child.stdout!.off('data', onData);
        // Keep draining its output, so the server never blocks on a full pipe.
        child.stdout!.resume();
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${log}`)));
    // A test process that dies without stopping it leaves no server behind.
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    child.once('exit', () => process.off('exit', reap));
  });
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  ensureRedisInstalled();
  const dir = await mkdtemp(join(tmpdir(), 'posenc-redis-'));
  const tls = options.tls ? makeCertificate(dir) : undefined;
  let port = 0;
  let child: ChildProcess | undefined;
  const args = () => [
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--save',
    '',
    '--daemonize',
    'no',
    ...(options.password ? ['--requirepass', options.password] : []),
    ...(tls
      ? [
          '--port',
          '0',
          '--tls-port',
          String(port),
          '--tls-cert-file',
          tls.cert,
          '--tls-key-file',
          tls.key,
          '--tls-auth-clients',
          'no',
        ]
      : ['--port', String(port)]),
  ];
  // Another process can take a free port before the server binds it: try a few.
  for (let attempt = 0; !child; attempt++) {
    port = await freePort();
    try {
      child = await launch(args());
    } catch (e) {
      if (attempt >= 4) throw e;
    }
  }
  const scheme = tls ? 'rediss' : 'redis';
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  const urlOf = (db: number) => `${scheme}://${auth}127.0.0.1:${port}/${db}`;
  return {
    port,
    url: urlOf(0),
    ...(tls && { caFile: tls.cert }),
    urlOf,
    async restart() {
      await stopProcess(child!);
      child = await launch(args());
    },
    async stop() {
      await stopProcess(child!);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
