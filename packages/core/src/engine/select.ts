/**
 * Engine selection: the fastest TF.js backend that loads here, chosen once per process.
 *
 * Order: `tensorflow` (tfjs-node-gpu, then tfjs-node: native TensorFlow where it installs),
 * then a fast engine registered by `@posenc/kernels`, then `wasm`, then `cpu`.
 * `POSENC_BACKEND` names one engine and wins; if that engine cannot load we fail loudly
 * rather than silently run on something slower than asked.
 */
import { tf } from './tf.js';

export type EngineName = 'tensorflow' | 'kernels' | 'wasm' | 'cpu';
export const ENGINE_NAMES: readonly EngineName[] = ['tensorflow', 'kernels', 'wasm', 'cpu'];

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

async function loadWasm(): Promise<string> {
  await importOptional('@tensorflow/tfjs-backend-wasm');
  return 'wasm';
}

const loaders: Record<EngineName, () => Promise<string>> = {
  tensorflow: () => providers.get('tensorflow')?.load() ?? loadTensorflow(),
  kernels: loadKernels,
  wasm: () => providers.get('wasm')?.load() ?? loadWasm(),
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
  const ok = await tf.setBackend(backend);
  if (!ok) throw new Error(`tf.setBackend('${backend}') returned false`);
  await tf.ready();
}

async function choose(preferred: EngineName | undefined): Promise<EngineChoice> {
  if (preferred) {
    try {
      const backend = await loaders[preferred]();
      await activate(backend);
      return { engine: preferred, backend, skipped: [] };
    } catch (e) {
      throw new Error(`POSENC_BACKEND=${preferred} cannot be used here: ${firstLine(e)}`);
    }
  }
  const skipped: EngineChoice['skipped'] = [];
  for (const engine of ENGINE_NAMES) {
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
  /** Engine to use; defaults to POSENC_BACKEND, then automatic choice. */
  engine?: EngineName;
  /** Where the one-line choice is printed; defaults to stderr. Pass null to stay silent. */
  log?: ((line: string) => void) | null;
}

/**
 * Picks and activates an engine now, without caching: what initEngine does once per process.
 * Exposed for tools and tests that compare engines in one run.
 */
export async function selectEngine(options: InitEngineOptions = {}): Promise<EngineChoice> {
  const env = process.env['POSENC_BACKEND'];
  const preferred = options.engine ?? (env ? parseEngineName(env) : undefined);
  const log =
    options.log === undefined ? (l: string) => process.stderr.write(l + '\n') : options.log;
  const choice = await choose(preferred);
  const why = choice.skipped.length
    ? ` (skipped ${choice.skipped.map((s) => `${s.engine}: ${s.reason}`).join('; ')})`
    : '';
  log?.(
    `[posenc] engine: ${choice.engine}${preferred ? ' (chosen by POSENC_BACKEND or option)' : ''}${why}`,
  );
  return choice;
}

/**
 * Selects and activates the engine once per process; later calls return the same choice.
 * The choice is printed once, on stderr, so stdout stays clean for results.
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
