// SIGTERM to `npm run workshop -- serve`, as a process manager or a wrapper sends it: the
// portal and every shell it started stop, and nothing is left listening.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { startPortal } from '../../harness/portal.js';
import { attachTerminal } from '../../harness/terminal-client.js';

// Every process below `pid`, from /proc's lists of children.
function descendants(pid: number): number[] {
  const found: number[] = [];
  const walk = (p: number): void => {
    for (const task of readdirSync(`/proc/${p}/task`)) {
      const file = `/proc/${p}/task/${task}/children`;
      if (!existsSync(file)) continue;
      for (const child of readFileSync(file, 'utf8')
        .split(' ')
        .filter((s) => s !== '')) {
        found.push(Number(child));
        walk(Number(child));
      }
    }
  };
  walk(pid);
  return found;
}

// Running: it exists and is not a zombie waiting for its parent to read its exit.
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });

describe('npm run workshop -- serve, sent SIGTERM', () => {
  it('stops the portal and every shell it started, and leaves nothing listening', async () => {
    const portal = await startPortal([], {}, ['npm', 'run', 'workshop', '--']);
    let tree: number[] = [];
    try {
      const shells = await Promise.all(['1', '2'].map((id) => attachTerminal(portal.url, id)));
      for (const [i, shell] of shells.entries())
        shell.execute(`echo shell-pid-$(( $$ + 0 )); sleep 60${i} & sleep 61${i}`);
      await Promise.all(shells.map((s) => s.waitFor(/shell-pid-\d+/)));
      const npm = portal.child.pid ?? 0;
      tree = [npm, ...descendants(npm)];
      const commands = tree.map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
      assert.ok(
        commands.some((c) => c.includes('portal/main.ts')),
        'the portal is in the tree',
      );
      assert.equal(commands.filter((c) => c.startsWith('sleep')).length, 4, commands.join('\n'));
      portal.child.kill('SIGTERM');
      const end = performance.now() + 30_000;
      while (tree.some(running) && performance.now() < end) await sleep(200);
      const left = tree
        .filter(running)
        .map((p) => `${p}: ${readFileSync(`/proc/${p}/cmdline`, 'utf8')}`);
      assert.deepEqual(left, [], 'no process of the tree is left');
      assert.equal(await listening(portal.port), false, 'nothing listens on its port');
      await Promise.all(shells.map((s) => s.close()));
    } finally {
      for (const pid of tree.filter(running)) process.kill(pid, 'SIGKILL');
      await portal.close();
    }
  });
});
