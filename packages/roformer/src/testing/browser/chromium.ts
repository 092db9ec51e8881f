/**
 * Debian's headless Chromium driven over the DevTools protocol on a pipe (no WebSocket client,
 * no downloaded browser build). `ensureChromium` installs the Debian package when it is missing,
 * so a clean CI machine gets it from the test set-up.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

export const CHROMIUM = '/usr/bin/chromium';

/** Installs Debian's `chromium` with apt-get when /usr/bin/chromium is absent. */
export function ensureChromium(): string {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  const asRoot = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
  for (const args of [
    ['apt-get', 'update'],
    ['apt-get', 'install', '-y', '--no-install-recommends', 'chromium'],
  ]) {
    const [command, ...rest] = [...asRoot, ...args];
    const run = spawnSync(command!, rest, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (run.status !== 0)
      throw new Error(
        `${CHROMIUM} is missing and \`${[command, ...rest].join(' ')}\` failed (${run.status}): ${run.stderr?.toString().slice(-500)}`,
      );
  }
  if (!existsSync(CHROMIUM))
    throw new Error(`apt-get installed chromium but ${CHROMIUM} is absent`);
  return CHROMIUM;
}

interface Pending {
  resolve: (value: Record<string, unknown>) => void;
  reject: (error: Error) => void;
}

/** One headless Chromium; `evaluate` runs an expression in a page and returns its value. */
export class Chromium {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private buffered = '';
  /** Uncaught page errors and console errors, for the failure message. */
  readonly pageErrors: string[] = [];

  private constructor(
    private readonly child: ChildProcess,
    private readonly profile: string,
  ) {
    const fromBrowser = child.stdio[4] as Readable;
    fromBrowser.setEncoding('utf8');
    fromBrowser.on('data', (chunk: string) => this.receive(chunk));
    child.on('exit', (code) => {
      for (const { reject } of this.pending.values())
        reject(new Error(`chromium exited (${code}) with a command pending`));
      this.pending.clear();
    });
  }

  static async launch(extraFlags: readonly string[] = []): Promise<Chromium> {
    const executable = ensureChromium();
    const profile = await mkdtemp(join(tmpdir(), 'posenc-chromium-'));
    const child = spawn(
      executable,
      [
        '--headless',
        '--remote-debugging-pipe',
        // Tests run as root in CI containers, where Chromium's sandbox cannot start.
        '--no-sandbox',
        '--no-first-run',
        '--no-default-browser-check',
        `--user-data-dir=${profile}`,
        ...extraFlags,
        'about:blank',
      ],
      { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
    );
    return new Chromium(child, profile);
  }

  private receive(chunk: string): void {
    this.buffered += chunk;
    let end: number;
    while ((end = this.buffered.indexOf('\0')) >= 0) {
      const message = JSON.parse(this.buffered.slice(0, end)) as {
        id?: number;
        method?: string;
        params?: Record<string, unknown>;
        result?: Record<string, unknown>;
        error?: { message: string };
      };
      this.buffered = this.buffered.slice(end + 1);
      if (message.id !== undefined) {
        const waiting = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error) waiting?.reject(new Error(message.error.message));
        else waiting?.resolve(message.result ?? {});
      } else if (message.method === 'Runtime.exceptionThrown') {
        const details = message.params?.['exceptionDetails'] as {
          exception?: { description?: string };
          text?: string;
        };
        this.pageErrors.push(details.exception?.description ?? details.text ?? 'exception');
      } else if (message.method === 'Runtime.consoleAPICalled') {
        const params = message.params as {
          type: string;
          args: { value?: unknown; description?: string }[];
        };
        if (params.type === 'error')
          this.pageErrors.push(params.args.map((a) => a.description ?? String(a.value)).join(' '));
      }
    }
  }

  send(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
  ): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const toBrowser = this.child.stdio[3] as Writable;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      toBrowser.write(
        JSON.stringify({ id, method, params, ...(sessionId && { sessionId }) }) + '\0',
      );
    });
  }

  /** Opens `url` in a new tab and returns its session. */
  async open(url: string): Promise<string> {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = (await this.send('Target.attachToTarget', {
      targetId,
      flatten: true,
    })) as { sessionId: string };
    await this.send('Runtime.enable', {}, sessionId);
    await this.send('Page.enable', {}, sessionId);
    await this.send('Page.navigate', { url }, sessionId);
    return sessionId;
  }

  /** Evaluates `expression` in the page (awaiting a promise) and returns its JSON value. */
  async evaluate<T>(sessionId: string, expression: string): Promise<T> {
    const reply = (await this.send(
      'Runtime.evaluate',
      { expression, awaitPromise: true, returnByValue: true },
      sessionId,
    )) as {
      result: { value?: T };
      exceptionDetails?: { exception?: { description?: string }; text: string };
    };
    if (reply.exceptionDetails)
      throw new Error(
        `in the page: ${reply.exceptionDetails.exception?.description ?? reply.exceptionDetails.text}${this.pageErrors.length ? `\npage errors:\n${this.pageErrors.join('\n')}` : ''}`,
      );
    return reply.result.value as T;
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    await this.send('Browser.close').catch(() => undefined);
    if (this.child.exitCode === null) await exited;
    await rm(this.profile, { recursive: true, force: true });
  }
}
