/** Every code block of the package's README runs as written. */
import { describeReadmeExamples } from '@posenc/core/testing';

await describeReadmeExamples(new URL('../', import.meta.url).pathname);
