import { packageTestConfig } from '../../vitest.shared.mjs';

export default packageTestConfig('@posenc/eval', import.meta.dirname);
