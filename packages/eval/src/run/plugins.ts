/**
 * The position-method plugins eval knows: the one list every harness builds its rows from, and
 * whose versions every result records. Each is imported by name when a run starts (importing a
 * plugin registers its encodings with core's registry); one that is not installed is listed as
 * unavailable with the reason.
 */
import { importPlugin } from './plugin-import.js';
import { MethodUnavailableError } from './methods.js';

export const PLUGIN_PACKAGES = [
  '@posenc/roformer',
  '@posenc/shortformer',
  '@posenc/segmented',
  '@posenc/spe-linear',
  '@posenc/irpe-vision',
] as const;

export type PluginPackage = (typeof PLUGIN_PACKAGES)[number];

export interface PluginStatus {
  readonly package: PluginPackage;
  readonly module?: Record<string, unknown>;
  /** Why it could not be loaded. */
  readonly reason?: string;
}

let loading: Promise<PluginStatus[]> | undefined;

/** Imports every plugin once per process; the statuses in list order. */
export function loadPlugins(): Promise<PluginStatus[]> {
  loading ??= (async () => {
    const statuses: PluginStatus[] = [];
    for (const name of PLUGIN_PACKAGES) {
      try {
        statuses.push({ package: name, module: await importPlugin(name, name) });
      } catch (e) {
        const reason = e instanceof MethodUnavailableError ? e.reason : String(e);
        statuses.push({ package: name, reason });
      }
    }
    return statuses;
  })();
  return loading;
}
