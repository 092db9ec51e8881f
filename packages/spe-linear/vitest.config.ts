import { packageTestConfig } from '../../vitest.shared.mjs';

export default packageTestConfig('@posenc/spe-linear', import.meta.dirname);
