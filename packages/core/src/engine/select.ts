/**
 * Engine selection: the fastest TF.js backend that loads here, chosen once per process.
 *
 * In Node: `tensorflow` (tfjs-node-gpu, then tfjs-node: native TensorFlow where it installs),
 * then a fast engine registered by `@posenc/kernels`, then `wasm`, then `cpu`. In a browser (or
 * any runtime that is not Node): `webgpu` where its TF.js backend is installed and the browser
 * has `navigator.gpu`, then `webgl`, then `wasm`, then `cpu`. The `engine` option (in Node also
 * `POSENC_BACKEND`) names one engine and wins; if that engine cannot load we fail loudly rather
 * than silently run on something slower than asked. Nothing here touches `process` outside Node.
 */
import { tf } from './tf.js';

export type EngineName = 'tensorflow' | 'kernels' | 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export const ENGINE_NAMES: readonly EngineName[] = [
  'tensorflow',
  'kernels',
  'webgpu',
  'webgl',
  'wasm',
  'cpu',
];
/** The automatic order in Node and elsewhere. */
export const NODE_ENGINE_ORDER: readonly EngineName[] = ['tensorflow', 'kernels', 'wasm', 'cpu'];
export const BROWSER_ENGINE_ORDER: readonly EngineName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

interface NodeProcess {
  versions: { node?: string };
  env: Record<string, string | undefined>;
  stderr: { write(text: string): unknown };
}

/** Node's `process`, or undefined in a browser; read through globalThis so bundles need no shim. */
function nodeProcess(): NodeProcess | undefined {
  const candidate = (globalThis as { process?: NodeProcess }).process;
  return typeof candidate?.versions?.node === 'string' ? candidate : undefined;
}

/** A package that can make an engine available (e.g. `@posenc/kernels`). */
export interface EngineProvider {
  readonly name: EngineName;
  /** Registers the backend and returns the TF.js backend name to activate, or throws why not. */
  load(): Promise<string>;
}

const providers = new Map<EngineName, EngineProvider>();
let selected: Promise<EngineChoice> | undefined;

export interface EngineChoice {
  engine: EngineName;
  backend: string;
  /** Engines tried before this one and why each was skipped. */
  skipped: { engine: EngineName; reason: string }[];
}

export function registerEngineProvider(provider: EngineProvider): void {
  providers.set(provider.name, provider);
}

// A specifier in a variable keeps bundlers and tsc from resolving optional packages.
const importOptional = (specifier: string): Promise<unknown> => import(specifier);

async function loadTensorflow(): Promise<string> {
  const errors: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await importOptional(pkg);
      return 'tensorflow';
    } catch (e) {
      errors.push(`${pkg}: ${firstLine(e)}`);
    }
  }
  throw new Error(errors.join('; '));
}

async function loadKernels(): Promise<string> {
  if (!providers.has('kernels')) {
    // Importing @posenc/kernels registers its provider; absent package means no fast engine.
    try {
      await importOptional('@posenc/kernels');
    } catch (e) {
      throw new Error(`@posenc/kernels: ${firstLine(e)}`);
    }
  }
  const provider = providers.get('kernels');
  if (!provider) throw new Error('@posenc/kernels loaded but registered no engine');
  return provider.load();
}

/**
 * A TF.js backend that registers itself when its package is imported: already registered when
 * the application imported it (the way in a bundle), else imported here (the way in Node).
 */
async function loadRegistered(backend: string, pkg: string): Promise<string> {
  if (!tf.findBackendFactory(backend)) {
    try {
      await importOptional(pkg);
    } catch (e) {
      throw new Error(`${pkg}: ${firstLine(e)} (import it before initEngine to bundle it)`);
    }
  }
  return backend;
}

async function loadWebgpu(): Promise<string> {
  if (!(globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu)
    throw new Error('this browser has no navigator.gpu');
  return loadRegistered('webgpu', '@tensorflow/tfjs-backend-webgpu');
}

async function loadWebgl(): Promise<string> {
  // The union package @tensorflow/tfjs registers webgl wherever a DOM exists.
  if (!tf.findBackendFactory('webgl')) throw new Error('no WebGL backend in this runtime');
  return 'webgl';
}

const loaders: Record<EngineName, () => Promise<string>> = {
  tensorflow: () => providers.get('tensorflow')?.load() ?? loadTensorflow(),
  kernels: loadKernels,
  webgpu: () => providers.get('webgpu')?.load() ?? loadWebgpu(),
  webgl: () => providers.get('webgl')?.load() ?? loadWebgl(),
  wasm: () =>
    providers.get('wasm')?.load() ?? loadRegistered('wasm', '@tensorflow/tfjs-backend-wasm'),
  cpu: async () => 'cpu',
};

function firstLine(e: unknown): string {
  if ((e as { code?: string } | null)?.code === 'ERR_MODULE_NOT_FOUND') return 'not installed';
  return String(e instanceof Error ? e.message : e).split('\n')[0]!;
}

export function parseEngineName(value: string, field = 'POSENC_BACKEND'): EngineName {
  if ((ENGINE_NAMES as readonly string[]).includes(value)) return value as EngineName;
  throw new Error(
    `${field}=${JSON.stringify(value)} is not an engine; allowed: ${ENGINE_NAMES.join(', ')}`,
  );
}

async function activate(backend: string): Promise<void> {
  // setBackend resolves false (and logs) when a registered backend cannot start, e.g. no WebGL.
  const ok = await tf.setBackend(backend);
  if (!ok) throw new Error(`tf.setBackend('${backend}') returned false`);
  await tf.ready();
}

async function choose(
  preferred: EngineName | undefined,
  order: readonly EngineName[],
): Promise<EngineChoice> {
  if (preferred) {
    try {
      const backend = await loaders[preferred]();
      await activate(backend);
      return { engine: preferred, backend, skipped: [] };
    } catch (e) {
      throw new Error(`engine ${preferred} cannot be used here: ${firstLine(e)}`);
    }
  }
  const skipped: EngineChoice['skipped'] = [];
  for (const engine of order) {
    try {
      const backend = await loaders[engine]();
      await activate(backend);
      return { engine, backend, skipped };
    } catch (e) {
      skipped.push({ engine, reason: firstLine(e) });
    }
  }
  throw new Error(`no TF.js engine could start: ${JSON.stringify(skipped)}`);
}

export interface InitEngineOptions {
  /** Engine to use (what POSENC_BACKEND says in Node); defaults to POSENC_BACKEND, then automatic choice. */
  engine?: EngineName;
  /** Where the one-line choice is printed; defaults to stderr in Node, console.info elsewhere. Pass null to stay silent. */
  log?: ((line: string) => void) | null;
}

/**
 * Picks and activates an engine now, without caching: what initEngine does once per process.
 * Exposed for tools and tests that compare engines in one run.
 */
export async function selectEngine(options: InitEngineOptions = {}): Promise<EngineChoice> {
  const node = nodeProcess();
  const env = node?.env['POSENC_BACKEND'];
  const preferred = options.engine
    ? parseEngineName(options.engine, 'engine')
    : env
      ? parseEngineName(env)
      : undefined;
  const log =
    options.log !== undefined
      ? options.log
      : node
        ? (l: string) => node.stderr.write(l + '\n')
        : (l: string) => console.info(l);
  const choice = await choose(preferred, node ? NODE_ENGINE_ORDER : BROWSER_ENGINE_ORDER);
  const why = choice.skipped.length
    ? ` (skipped ${choice.skipped.map((s) => `${s.engine}: ${s.reason}`).join('; ')})`
    : '';
  log?.(
    `[posenc] engine: ${choice.engine}${preferred ? ' (chosen by POSENC_BACKEND or option)' : ''}${why}`,
  );
  return choice;
}

/**
 * Selects and activates the engine once per process (or page); later calls return the same
 * choice. The choice is printed once, on stderr in Node, so stdout stays clean for results.
 */
export function initEngine(options: InitEngineOptions = {}): Promise<EngineChoice> {
  if (!selected) {
    selected = selectEngine(options);
    selected.catch(() => (selected = undefined));
  }
  return selected;
}

/** The engine chosen by initEngine, or undefined before it ran. */
export async function currentEngine(): Promise<EngineChoice | undefined> {
  return selected;
}
