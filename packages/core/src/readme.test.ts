/** Every code block of the package's README runs as written. */
import { describeReadmeExamples } from './testing/index.js';

await describeReadmeExamples(new URL('../', import.meta.url).pathname);
