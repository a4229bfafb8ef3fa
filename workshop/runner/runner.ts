import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { type Action, type Page, listPages, parsePage, str } from './pages.js';

export interface RunnerOptions {
  root: string;
  input: Readable;
  output: Writable;
  grafanaUrl?: string;
  // Runs every command without asking: for demonstrations and tests.
  yes?: boolean;
}

export interface Runner {
  pages: Page[];
  // Index of a page by its number (1-based), its file name, or its name without the number.
  find(page: string): number;
  runPage(index: number): Promise<'next' | 'quit'>;
  run(from?: number): Promise<void>;
  perform(action: Action): Promise<void>;
  sessions: Map<number, ChildProcess>;
  interruptAll(): Promise<void>;
  close(): void;
}

export function createRunner(options: RunnerOptions): Runner {
  const { root, output } = options;
  const grafanaUrl = options.grafanaUrl ?? process.env['GRAFANA_URL'] ?? 'http://localhost:3000';
  const pages = listPages(join(root, 'workshop')).map(parsePage);
  const sessions = new Map<number, ChildProcess>();
  const rl: Interface = createInterface({ input: options.input, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  const say = (text: string): void => {
    output.write(`${text}\n`);
  };

  async function ask(question: string): Promise<string> {
    if (options.yes === true) return '';
    output.write(question);
    const next = await lines.next();
    return next.done === true ? 'q' : next.value.trim().toLowerCase();
  }

  // Each session is one command in its own process group, so an interrupt reaches the
  // command and everything it started, as Ctrl-C in a terminal would.
  function execute(command: string, session: number): void {
    if (sessions.has(session)) say(`[${session}] session ${session} is busy; interrupt it first`);
    const child = spawn('bash', ['-c', command], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    sessions.set(session, child);
    const prefix = (d: Buffer): void => {
      for (const line of d
        .toString()
        .split('\n')
        .filter((l) => l !== ''))
        say(`[${session}] ${line}`);
    };
    child.stdout.on('data', prefix);
    child.stderr.on('data', prefix);
    child.on('exit', (code, signal) => {
      if (sessions.get(session) === child) sessions.delete(session);
      say(`[${session}] ${signal !== null ? `stopped by ${signal}` : `exited ${code ?? ''}`}`);
    });
    say(`[${session}] $ ${command}`);
  }

  async function interrupt(session: number): Promise<void> {
    const child = sessions.get(session);
    if (child?.pid === undefined) return;
    const exited = once(child, 'exit');
    process.kill(-child.pid, 'SIGINT');
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, 10_000);
    await exited;
    clearTimeout(timer);
  }

  async function interruptAll(): Promise<void> {
    await Promise.all([...sessions.keys()].map(interrupt));
  }

  function showSelection(action: Action): void {
    const file = str(action.body, 'file') ?? '';
    const text = str(action.body, 'text') ?? '';
    const content = readFileSync(join(root, file), 'utf8').split('\n');
    const regex = action.body['isRegex'] === true ? new RegExp(text) : undefined;
    const at = content.findIndex((l) => (regex ? regex.test(l) : l.includes(text)));
    const before = Number(action.body['before'] ?? 0);
    const after = Number(action.body['after'] ?? 0);
    say(`-- ${file}:${at + 1}`);
    for (let i = Math.max(0, at - before); i <= Math.min(content.length - 1, at + after); i++) {
      say(`${String(i + 1).padStart(4)} ${i === at ? '>' : ' '} ${content[i] ?? ''}`);
    }
  }

  async function perform(action: Action): Promise<void> {
    const { kind, body } = action;
    const session = Number(body['session'] ?? 1);
    if (kind === 'terminal:execute') {
      const command = str(body, 'command') ?? '';
      const answer = await ask(`run in terminal ${session}: ${command}  [Y/n/q] `);
      if (answer === 'q') throw new Quit();
      if (answer === '' || answer === 'y') execute(command, session);
    } else if (kind === 'terminal:interrupt') {
      say(`interrupting terminal ${session}`);
      await interrupt(session);
    } else if (kind === 'terminal:interrupt-all') {
      say('interrupting every terminal');
      await interruptAll();
    } else if (kind === 'editor:open-file') {
      say(`open in your editor: ${str(body, 'file') ?? ''}`);
    } else if (kind === 'editor:select-matching-text') {
      showSelection(action);
    } else if (kind.startsWith('dashboard:')) {
      say(
        `open in your browser: ${(str(body, 'url') ?? '').replace('{{grafana_url}}', grafanaUrl)}`,
      );
    }
  }

  async function runPage(index: number): Promise<'next' | 'quit'> {
    const page = pages[index];
    if (page === undefined) return 'quit';
    say(`\n=== ${index + 1}/${pages.length}: ${page.title} ===\n`);
    try {
      for (const block of page.blocks) {
        if (block.type === 'text') say(`${block.text}\n`);
        else await perform(block.action);
      }
    } catch (err) {
      if (err instanceof Quit) return 'quit';
      throw err;
    }
    return (await ask('-- end of page: Enter for the next one, q to stop ')) === 'q'
      ? 'quit'
      : 'next';
  }

  return {
    pages,
    sessions,
    perform,
    interruptAll,
    runPage,
    find(name) {
      const byNumber = /^\d+$/.test(name) ? Number(name) - 1 : -1;
      const index =
        byNumber >= 0
          ? byNumber
          : pages.findIndex((p) => p.name === name || p.name.slice(3) === name);
      if (pages[index] === undefined)
        throw new Error(
          `no page "${name}"; pages: ${pages.map((p, i) => `${i + 1} ${p.name}`).join(', ')}`,
        );
      return index;
    },
    async run(from = 0) {
      for (let i = from; i < pages.length; i++) if ((await runPage(i)) === 'quit') break;
      await interruptAll();
    },
    close() {
      rl.close();
    },
  };
}

class Quit extends Error {}
