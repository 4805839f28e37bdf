/**
 * The git state a report records: the commit of HEAD and whether the work tree has changes
 * (`git status --porcelain` prints anything, untracked files included). Both are null outside a
 * git checkout or when git is not installed; `commit` is null in a repository with no commit yet.
 * Never throws: a report must be written even where git cannot answer.
 */
import { execFile } from 'node:child_process';

export interface GitInfo {
  commit: string | null;
  dirty: boolean | null;
}

function git(args: string[], cwd: string): Promise<string | null> {
  return new Promise((resolvePromise) => {
    execFile('git', args, { cwd, timeout: 10_000, maxBuffer: 16 * 1024 * 1024, windowsHide: true }, (err, stdout) => {
      resolvePromise(err ? null : stdout);
    });
  });
}

/** Commit and dirty flag of the checkout containing `cwd` (default: the current directory). */
export async function gitInfo(cwd: string = process.cwd()): Promise<GitInfo> {
  const inside = await git(['rev-parse', '--is-inside-work-tree'], cwd);
  if (inside === null || inside.trim() !== 'true') return { commit: null, dirty: null };
  const head = await git(['rev-parse', '--verify', '--quiet', 'HEAD'], cwd);
  const commit = head !== null && /^[0-9a-f]{40,64}$/.test(head.trim()) ? head.trim() : null;
  const status = await git(['status', '--porcelain'], cwd);
  return { commit, dirty: status === null ? null : status.trim().length > 0 };
}
