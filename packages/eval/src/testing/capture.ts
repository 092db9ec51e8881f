/** A stream that keeps what is written to it, for running the CLI in process. */
export class CapturedStream {
  text = '';
  isTTY = false;
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

/** Runs `posenc <argv>` in this process with `baseDir` as the user's directory; what it printed. */
export async function posencInProcess(argv: readonly string[], baseDir: string) {
  const { main } = await import('../cli/main.js');
  const stdout = new CapturedStream();
  const stderr = new CapturedStream();
  const code = await main(argv, { stdout, stderr, baseDir });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
