/**
 * Every row of the LM harness, in report order: the registry's encodings on the standard
 * procedure, then the procedures the plugins declare (Shortformer's staged training with its
 * cache, the segmented samplers). Plugins are loaded first so their encodings are registered.
 */
import { loadPlugins } from '../../../run/plugins.js';
import { segmentedRows } from './segmented-rows.js';
import type { LMRow } from './session.js';
import { shortformerRows } from './shortformer-rows.js';
import { registryRows } from './registry-rows.js';

export async function lmRows(): Promise<LMRow[]> {
  const plugins = await loadPlugins();
  const moduleOf = (name: string) => plugins.find((p) => p.package === name)?.module;
  return [
    ...registryRows(),
    ...shortformerRows(moduleOf('@posenc/shortformer')),
    ...segmentedRows(moduleOf('@posenc/segmented')),
  ];
}
