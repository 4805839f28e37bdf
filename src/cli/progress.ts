/**
 * The CLI's side of the Progress callback: a cli-progress bar on stderr when stderr is a TTY and
 * output is for a person; silent otherwise (piped, CI logs, --json), so scripts get clean output.
 */
import cliProgress from 'cli-progress';
import type { Progress } from '../core/models/recommender.js';

export function terminalProgress(enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY) return { start() {}, tick() {}, stop() {} };
  let bar: cliProgress.SingleBar | null = null;
  let value = 0;
  const stop = (): void => {
    bar?.stop();
    bar = null;
  };
  return {
    start(phase, total) {
      stop();
      value = 0;
      bar = new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: `${phase.padEnd(14)} {bar} {percentage}% | {value}/{total} | {duration_formatted} {info}`,
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0, { info: '' });
    },
    tick(done = 1, info) {
      value += done;
      const text = info ? Object.entries(info).map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toPrecision(4) : v}`).join(' ') : '';
      bar?.update(value, { info: text });
    },
    stop,
  };
}
