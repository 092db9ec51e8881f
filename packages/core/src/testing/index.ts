/**
 * `@posenc/core/testing`: what the packages' tests share. Node only; the conformance suite and
 * the cpu harness register vitest tests (vitest is an optional peer dependency); browser bundles
 * are made with esbuild (another optional peer).
 */
export { goldenPath } from './golden.js';
export {
  goldenCaseFiles,
  goldenEntry,
  goldenTensor,
  goldenValues,
  readGoldenCase,
  type GoldenCase,
} from './golden-cases.js';
export { maxAbsDiff } from './max-abs-diff.js';
export { expectClose, type Numbers, type Tolerance } from './expect-close.js';
export { expectNoTensorLeaks } from './tensor-leaks.js';
export { onCpuWithoutLeaks } from './cpu-without-leaks.js';
export {
  attentionContext,
  disposeAttentionContext,
  type PositionsLike,
  type TestContextOptions,
} from './attention-context.js';
export { SMALL_SIZES, testBuildSpec } from './build-spec.js';
export {
  checkGradientsByFiniteDifferences,
  type GradientCheckOptions,
} from './finite-differences.js';
export {
  conformanceChecks,
  type ConformanceCase,
  type ConformanceCheck,
} from './conformance/checks.js';
export {
  describeEncodingConformance,
  describePackageConformance,
} from './conformance/describe-encoding-conformance.js';
export { bundleForBrowser, type BrowserBundleOptions } from './browser-bundle.js';
export {
  readmeCodeBlocks,
  describeReadmeExamples,
  runReadmeExample,
  type ReadmeExampleRun,
} from './readme-examples.js';
