/**
 * The image harness's rows, built from core's registry: every registered encoding and named
 * variant that works in softmax attention on 2D grid positions — core's `none`, `learned` (a
 * table of the training grid, resampled to other sizes), `sinusoidal` (2D), roformer's `rope`
 * (axial 2D), irpe-vision's `irpe` and its variants. iRPE rows keep the absolute encoding the
 * paper's DeiT keeps beside it, as irpe-vision declares it (`PAPER_ABSOLUTE_ENCODING`).
 */
import { createEncoding, type EncodingConfig } from '@posenc/core';
import type * as IrpeVision from '@posenc/irpe-vision';
import { loadPlugins } from '../../../run/plugins.js';
import { checkEncodingConfigs, registryEntries } from '../../../run/registry-rows.js';
import { imageSession, type ImageRow } from './session.js';

const IRPE_PACKAGE = '@posenc/irpe-vision';

export async function imageRows(): Promise<ImageRow[]> {
  const plugins = await loadPlugins();
  const irpe = plugins.find((p) => p.package === IRPE_PACKAGE)?.module as
    Partial<typeof IrpeVision> | undefined;
  const absolute = irpe?.PAPER_ABSOLUTE_ENCODING as EncodingConfig | undefined;
  return registryEntries('softmax', '2d').map(
    ({ name, description, paper, definition, config }) => {
      const configs =
        definition.package === IRPE_PACKAGE && absolute ? [absolute, config] : [config];
      const notes =
        configs.length > 1
          ? [
              `with the ${absolute!.name} absolute encoding beside it, as the paper's DeiT keeps its pos_embed`,
            ]
          : [];
      return {
        name,
        description,
        paper,
        package: definition.package,
        prepare: async () => {
          checkEncodingConfigs(name, definition.package, configs);
          return (context) => imageSession(context, configs.map(createEncoding), notes);
        },
      };
    },
  );
}
