import { packageTestConfig } from '../../vitest.shared.mjs';

export default packageTestConfig('@posenc/kernels', import.meta.dirname);
