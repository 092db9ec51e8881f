/**
 * RoPE and a tiny RoFormer in Debian's headless Chromium: the page (core + roformer bundled for
 * a browser with esbuild) fetches the weights over HTTP from 127.0.0.1 and runs on cpu, wasm and
 * webgl (SwiftShader); each result must equal Node's on cpu within 1e-5.
 */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { tf, type EngineName } from '@posenc/core';
import { bundleForBrowser, maxAbsDiff } from '@posenc/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hfRoFormerSafetensors, RoFormer } from './index.js';
import {
  BROWSER_CASE_MODEL,
  runBrowserCase,
  type BrowserCaseResult,
} from './testing/browser/browser-case.js';
import { Chromium } from './testing/browser/chromium.js';
import { randomizeParameters } from './testing/randomize.js';

const TOLERANCE = 1e-5;
const ENGINES: EngineName[] = ['cpu', 'wasm', 'webgl'];
const wasmDir = join(
  dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm')),
);

let server: Server;
let chromium: Chromium;
let session: string;
let inNode: BrowserCaseResult;

beforeAll(async () => {
  await tf.setBackend('cpu');
  const model = new RoFormer(BROWSER_CASE_MODEL);
  randomizeParameters(model.parameters(), 5);
  const weights = hfRoFormerSafetensors(model);
  model.dispose();
  inNode = await runBrowserCase(weights);

  const script = await bundleForBrowser(
    `import { installBrowserCase } from './testing/browser/page.ts'; installBrowserCase();`,
    import.meta.dirname,
  );
  const files: Record<string, { type: string; body: string | Uint8Array }> = {
    '/': {
      type: 'text/html',
      body: '<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>',
    },
    '/page.js': { type: 'text/javascript', body: script },
    '/weights.safetensors': { type: 'application/octet-stream', body: weights },
  };
  for (const name of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'])
    files[`/wasm/${name}`] = {
      type: 'application/wasm',
      body: await readFile(join(wasmDir, name)),
    };
  server = createServer((request, response) => {
    const file = files[new URL(request.url ?? '/', 'http://localhost').pathname];
    response.writeHead(file ? 200 : 404, { 'content-type': file?.type ?? 'text/plain' });
    response.end(file?.body ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  chromium = await Chromium.launch(['--use-angle=swiftshader', '--enable-unsafe-swiftshader']);
  session = await chromium.open(`http://127.0.0.1:${port}/`);
  await chromium.evaluate(
    session,
    `new Promise((resolve, reject) => {
      const start = Date.now();
      (function poll() {
        if (globalThis.posencBrowserCase) resolve(true);
        else if (Date.now() - start > 60000) reject(new Error('the page script did not load'));
        else setTimeout(poll, 50);
      })();
    })`,
  );
}, 600_000);

afterAll(async () => {
  await chromium?.close();
  await new Promise((resolve) => server?.close(resolve));
});

describe('in headless Chromium', () => {
  it.each(ENGINES)('RoPE and a RoFormer forward on %s equal Node within 1e-5', async (engine) => {
    const inBrowser = await chromium.evaluate<BrowserCaseResult>(
      session,
      `posencBrowserCase(${JSON.stringify(engine)})`,
    );
    expect(inBrowser.backend).toBe(engine);
    expect(inBrowser.rope).toHaveLength(inNode.rope.length);
    expect(inBrowser.logits).toHaveLength(inNode.logits.length);
    expect(maxAbsDiff(inBrowser.rope, inNode.rope)).toBeLessThanOrEqual(TOLERANCE);
    expect(maxAbsDiff(inBrowser.logits, inNode.logits)).toBeLessThanOrEqual(TOLERANCE);
  });
});
