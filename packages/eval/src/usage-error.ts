/**
 * A mistake in how the CLI was called (an unknown method, a missing corpus file, a bad length):
 * the CLI prints its one-line message and exits with code 2, before writing anything.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
