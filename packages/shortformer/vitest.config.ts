import { packageTestConfig } from '../../vitest.shared.mjs';

export default packageTestConfig('@posenc/shortformer', import.meta.dirname);
