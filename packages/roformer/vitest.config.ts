import { packageTestConfig } from '../../vitest.shared.mjs';

export default packageTestConfig('@posenc/roformer', import.meta.dirname);
