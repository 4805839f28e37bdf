import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gitInfo } from '../../src/core/report/git.js';

const root = await mkdtemp(join(tmpdir(), 'recsys-git-'));
after(() => rm(root, { recursive: true, force: true }));

let hasGit = true;
try {
  execFileSync('git', ['--version'], { stdio: 'ignore' });
} catch {
  hasGit = false;
}

test('outside a git checkout both commit and dirty are null', async () => {
  const dir = await mkdtemp(join(root, 'plain-'));
  // GIT_CEILING_DIRECTORIES is not needed: tmpdir is not inside a repository on these machines,
  // but guard anyway so the test cannot pass for the wrong reason.
  const inside = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() === 'true';
    } catch {
      return false;
    }
  })();
  if (inside) return;
  assert.deepEqual(await gitInfo(dir), { commit: null, dirty: null });
});

test('in a repository: commit is HEAD and dirty follows the work tree', { skip: hasGit ? false : 'git is not installed' }, async () => {
  const dir = await mkdtemp(join(root, 'repo-'));
  const git = (...args: string[]): string =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd: dir }).toString().trim();
  git('init', '-q');
  assert.deepEqual(await gitInfo(dir), { commit: null, dirty: false }, 'no commit yet');
  await writeFile(join(dir, 'a.txt'), 'a');
  git('add', 'a.txt');
  git('commit', '-q', '-m', 'first');
  const head = git('rev-parse', 'HEAD');
  assert.match(head, /^[0-9a-f]{40}$/);
  assert.deepEqual(await gitInfo(dir), { commit: head, dirty: false });
  await writeFile(join(dir, 'a.txt'), 'changed');
  assert.deepEqual(await gitInfo(dir), { commit: head, dirty: true });
});
