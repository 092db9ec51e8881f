import type { UserConfig } from 'vitest/config';

/** The test configuration of the package `name` whose folder is `root`. */
export declare function packageTestConfig(name: string, root: string): UserConfig;
