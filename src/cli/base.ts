/**
 * What every command shares: `--json` (the command's return value is the JSON output), `--store`,
 * a progress bar factory, and one error handler that turns RecsysError into a readable message
 * (or a JSON error object) and the catalogue's exit code.
 */
import { Command, Flags } from '@oclif/core';
import chalk from 'chalk';
import { isRecsysError } from '../core/errors.js';
import type { Progress } from '../core/models/recommender.js';
import { terminalProgress } from './progress.js';

export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    quiet: Flags.boolean({ char: 'q', description: 'No progress bars or informational output.', default: false, helpGroup: 'GLOBAL' }),
  };

  protected progress(quiet: boolean): Progress {
    return terminalProgress(!quiet && !this.jsonEnabled());
  }

  /** Human output only (suppressed by --json). */
  protected say(text = ''): void {
    if (!this.jsonEnabled()) this.log(text);
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    if (isRecsysError(err)) {
      if (this.jsonEnabled()) {
        this.logJson({ error: err.toJSON() });
      } else {
        const where = [err.data.file, err.data.line !== undefined ? `line ${err.data.line}` : null, err.data.flag].filter(Boolean).join(', ');
        process.stderr.write(`${chalk.red('Error')} ${chalk.dim(`[${err.code}]`)} ${err.message}${where ? chalk.dim(`\n  at ${where}`) : ''}\n`);
      }
      this.exit(err.exit);
    }
    return super.catch(err);
  }
}

export const storeFlag = Flags.string({
  description: 'DuckDB store file holding users, products and interactions.',
  default: './recsys.duckdb',
  env: 'RECSYS_STORE',
});
