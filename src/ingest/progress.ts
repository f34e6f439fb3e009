/** What the ingest service reports while it works. */
export interface ProgressEvent {
  readonly phase: 'scanning' | 'embedding' | 'pruning';
  readonly done: number;
  readonly total: number;
}

export interface ProgressReporter {
  update(event: ProgressEvent): void;
  /** Ends the current line (TTY) so that the summary starts clean. */
  finish(): void;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** When the output is a file or a pipe: a line at least this often, and at every `percentStep` per cent. */
export interface PlainLineCadence {
  readonly intervalMs: number;
  readonly percentStep: number;
}

export const DEFAULT_PLAIN_CADENCE: PlainLineCadence = { intervalMs: 5_000, percentStep: 5 };

/**
 * A progress bar (count, rate, ETA) redrawn in place on a terminal. When the output is a file or a pipe, a
 * plain line every few seconds or every few per cent, whichever comes first: a log shows both a slow run
 * moving and a fast one's course.
 */
export function createProgressReporter(
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
  cadence: PlainLineCadence = DEFAULT_PLAIN_CADENCE,
): ProgressReporter {
  const tty = out.isTTY === true;
  let phase: ProgressEvent['phase'] | undefined;
  let phaseStart = 0;
  let lastDraw = 0;
  let lastDone = 0;
  let drawn = false;

  const line = (e: ProgressEvent) => {
    if (e.phase === 'scanning') return `scanning: ${e.done} image files found`;
    const elapsed = (Date.now() - phaseStart) / 1000;
    const rate = elapsed > 0 ? e.done / elapsed : 0;
    const eta = rate > 0 ? (e.total - e.done) / rate : Infinity;
    const percent = e.total > 0 ? ((100 * e.done) / e.total).toFixed(1) : '100.0';
    const stats = `${e.done}/${e.total} ${percent}% ${rate.toFixed(1)} files/s ETA ${formatDuration(eta)}`;
    if (!tty) return `${e.phase}: ${stats}`;
    const width = Math.max(10, Math.min(40, (out.columns ?? 80) - stats.length - e.phase.length - 6));
    const filled = e.total > 0 ? Math.round((width * e.done) / e.total) : width;
    return `${e.phase} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${stats}`;
  };

  /** Whether a plain (non-TTY) line is due: the phase's first or last event, enough time or enough progress. */
  const plainLineDue = (e: ProgressEvent, now: number) => {
    if (!drawn || e.done >= e.total) return true;
    const stepReached = e.total > 0 && (100 * (e.done - lastDone)) / e.total >= cadence.percentStep;
    return stepReached || now - lastDraw >= cadence.intervalMs;
  };

  return {
    update(e) {
      const now = Date.now();
      if (e.phase !== phase) {
        if (tty && drawn) out.write('\n');
        phase = e.phase;
        phaseStart = now;
        lastDraw = 0;
        lastDone = 0;
        drawn = false;
      }
      if (tty ? now - lastDraw < 100 && e.done < e.total : !plainLineDue(e, now)) return;
      if (!tty && e.done >= e.total && e.total === 0) return;
      lastDraw = now;
      lastDone = e.done;
      if (tty) out.write(`\r\x1b[K${line(e)}`);
      else out.write(`${line(e)}\n`);
      drawn = true;
    },
    finish() {
      if (tty && drawn) out.write('\n');
      drawn = false;
    },
  };
}
