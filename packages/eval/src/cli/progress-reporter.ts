/**
 * Progress on stderr: on a terminal one bar line redrawn in place (method, step, loss, tokens/s,
 * ETA); otherwise plain lines at every tenth of training and after each evaluation, which read
 * well in CI logs and files.
 */
import type { ProgressEvent } from '@posenc/core';
import type { RunProgress } from '../run/progress.js';

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

function bar(fraction: number, width: number): string {
  const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

export function stepLine(method: string, e: ProgressEvent): string {
  const tps = e.tokensPerSecond !== undefined ? `  ${Math.round(e.tokensPerSecond)} tok/s` : '';
  return `${method}  step ${e.step + 1}/${e.totalSteps}  loss ${e.loss.toFixed(3)}${tps}  ETA ${formatDuration(e.etaMs)}`;
}

export function createProgressReporter(stream: ProgressStream): RunProgress {
  const tty = stream.isTTY === true;
  let position = '';
  let lastDraw = 0;
  let transient = false;
  const clear = () => {
    if (tty && transient) stream.write('\r\x1b[2K');
    transient = false;
  };
  const line = (text: string) => {
    clear();
    stream.write(text + '\n');
  };
  const draw = (text: string) => {
    const width = Math.max(20, (stream.columns ?? 100) - 1);
    stream.write('\r\x1b[2K' + (text.length > width ? text.slice(0, width - 1) + '…' : text));
    transient = true;
  };
  return {
    runStarted: ({ task, folder, methods, seeds, cells, engine }) =>
      line(
        `posenc bench ${task}: ${methods.length} method(s)${seeds.length > 1 ? ` × ${seeds.length} seeds = ${cells} cells` : ''} on the ${engine} engine → ${folder}`,
      ),
    cellSkipped: (cell, why) => line(`${cell}: ${why}, skipped`),
    cellStarted: (cell, index, total, resumedFrom) => {
      position = `[${index + 1}/${total}]`;
      line(
        `${position} ${cell}${resumedFrom !== undefined ? `: resuming from step ${resumedFrom}` : ''}`,
      );
    },
    trainStep: (cell, e) => {
      const last = e.step + 1 === e.totalSteps;
      if (tty) {
        const now = performance.now();
        if (!last && now - lastDraw < 100) return;
        lastDraw = now;
        const tps =
          e.tokensPerSecond !== undefined ? `  ${Math.round(e.tokensPerSecond)} tok/s` : '';
        draw(
          `${position} ${cell} ${bar((e.step + 1) / e.totalSteps, 20)} ${e.step + 1}/${e.totalSteps}  loss ${e.loss.toFixed(3)}${tps}  ETA ${formatDuration(e.etaMs)}`,
        );
        return;
      }
      const every = Math.max(1, Math.round(e.totalSteps / 10));
      if ((e.step + 1) % every === 0 || last) line(stepLine(cell, e));
    },
    evaluated: (cell, text) =>
      tty ? draw(`${position} ${cell}  ${text}`) : line(`${cell}  ${text}`),
    cellFinished: (cell, summary) => line(`${position} ${cell}: done — ${summary}`),
    cellFailed: (cell, error) => line(`${position} ${cell}: FAILED — ${error}`),
    note: (text) => line(text),
  };
}
