/** A stream that keeps what is written to it, for running the CLI in process. */
export class CapturedStream {
  text = '';
  isTTY = false;
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}
