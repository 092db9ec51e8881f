/**
 * Redis clients for the queue (ioredis, as BullMQ uses them): built from the parsed address, so
 * the URL is never handed to a library that could echo it; retrying forever with a short
 * back-off, so workers and the coordinator ride out a Redis restart; every error they report
 * goes, redacted and once per outage, to the process's log instead of ioredis's console output.
 */
import { isIP } from 'node:net';
import { Redis } from 'ioredis';
import type { QueueAddress } from './queue-url.js';
import { QueueRefusedError } from './queue-refused-error.js';
import { redactUrl } from './queue-url.js';

/** What a process says about its connection to the queue: a problem once, then its end. */
export interface ConnectionLog {
  problem(error: unknown): void;
  ready(): void;
}

export function errorText(error: unknown): string {
  return redactUrl(error instanceof Error ? error.message : String(error));
}

export function connectionLog(address: QueueAddress, note: (line: string) => void): ConnectionLog {
  let problem: string | undefined;
  return {
    problem(error) {
      const text = errorText(error);
      // Every client (and BullMQ's duplicates of them) reports the same outage.
      if (text === problem) return;
      problem = text;
      note(`queue ${address.shown}: ${text}`);
    },
    ready() {
      if (problem === undefined) return;
      problem = undefined;
      note(`queue ${address.shown}: connected`);
    },
  };
}

/** Longest pause between reconnection attempts. */
const MAX_RECONNECT_DELAY_MS = 2000;

export function redisClient(address: QueueAddress, name: string, log: ConnectionLog): Redis {
  const client = new Redis({
    host: address.host,
    port: address.port,
    db: address.db,
    ...(address.username !== undefined && { username: address.username }),
    ...(address.password !== undefined && { password: address.password }),
    // Certificates are checked against the host name (SNI is for names, not addresses).
    ...(address.tls && { tls: isIP(address.host) ? {} : { servername: address.host } }),
    connectionName: name,
    // BullMQ's blocking commands need it; commands wait through an outage instead of failing.
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(100 * times, MAX_RECONNECT_DELAY_MS),
  });
  client.on('error', (e: unknown) => log.problem(e));
  // A server that went away and is back before an attempt failed raises no error: say so too.
  client.on('reconnecting', () => log.problem('connection lost; reconnecting'));
  client.on('ready', () => log.ready());
  return client;
}

/**
 * Resolves once the queue answers; a refused password or another reply error is thrown
 * (redacted), a server that is not reachable yet is waited for (its errors go to the log).
 */
export async function waitForQueue(client: Redis, address: QueueAddress): Promise<void> {
  try {
    await client.ping();
  } catch (e) {
    throw new QueueRefusedError(`queue ${address.shown}: ${errorText(e)}`);
  }
}
