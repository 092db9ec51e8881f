import { packageTestConfig } from '../../vitest.shared.mjs';

export default packageTestConfig('@posenc/core', import.meta.dirname);
