import { packageTestConfig } from '../../vitest.shared.mjs';

export default packageTestConfig('@posenc/segmented', import.meta.dirname);
