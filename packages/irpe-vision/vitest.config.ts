import { packageTestConfig } from '../../vitest.shared.mjs';

export default packageTestConfig('@posenc/irpe-vision', import.meta.dirname);
