/** The queue refused this process (a wrong password): one line, no stack, exit 1. */
export class QueueRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueueRefusedError';
  }
}
