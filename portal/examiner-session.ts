// The checks of the page a browser shows, as Educates runs them: a click (or `autostart`, when
// the page or its section opens) runs the check; a failure is tried again `retries` times,
// `delay` seconds apart (.INF: until the page is left); a pass with `cascade` starts the next
// action. Leaving the page stops it all. A page whose checks have all passed is done, for
// every browser of this portal, until the portal stops.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findCheck, runCheck } from './examiner.js';
import { CHECK, SECTION_BEGIN, checkFields, sections } from './examiner-fields.js';
import { type Action, PAGE_FILE, listPages, parsePage } from './pages.js';

export interface ExaminerOptions {
  root: string;
  // The checks' whole environment (PATH, HOME, PROMETHEUS_URL...) and working directory.
  env: Record<string, string>;
  cwd: string;
  // Service URLs in a check's args, as the terminals' commands are rewritten.
  rewriteArg: (arg: string) => string;
}

// What the browser says, once the socket has checked its shape (examiner-socket.ts). An
// action is known by its page and the line its block starts on.
export type ExaminerMessage =
  { t: 'page'; page: string } | { t: 'run' | 'expand'; page: string; line: number };

export interface CheckReport {
  t: 'check';
  page: string;
  line: number;
  state: 'running' | 'waiting' | 'passed' | 'failed';
  attempt: number;
  // Tries in all, or null for .INF.
  of: number | null;
  status: string;
  output: string;
}

type Send = (message: object) => void;

export function createExaminer(options: ExaminerOptions) {
  const workshop = join(options.root, 'workshop');
  const testsDir = join(workshop, 'examiner', 'tests');
  const passed = new Map<string, Set<number>>();
  const last = new Map<string, Map<number, CheckReport>>();
  const sessions = new Set<{ page: string | undefined; send: Send; close(): void }>();

  const actionsOf = (page: string): Action[] | undefined => {
    const file = join(workshop, `${page}.md`);
    if (!PAGE_FILE.test(`${page}.md`) || !existsSync(file)) return undefined;
    return parsePage(file).blocks.flatMap((b) => (b.type === 'action' ? [b.action] : []));
  };

  const done = (): string[] =>
    listPages(workshop).flatMap((file) => {
      const name = file.slice(workshop.length + 1, -3);
      let checks: number[];
      try {
        checks = (actionsOf(name) ?? []).flatMap((a) => (a.kind === CHECK ? [a.line] : []));
      } catch {
        return [];
      }
      const ok = passed.get(name);
      return checks.length > 0 && checks.every((i) => ok?.has(i)) ? [name] : [];
    });

  const broadcast = (page: string | undefined, message: object): void => {
    for (const s of sessions) if (page === undefined || s.page === page) s.send(message);
  };

  const report = (r: CheckReport): void => {
    if (!last.has(r.page)) last.set(r.page, new Map());
    last.get(r.page)?.set(r.line, r);
    broadcast(r.page, r);
    if (r.state !== 'passed') return;
    if (!passed.has(r.page)) passed.set(r.page, new Set());
    passed.get(r.page)?.add(r.line);
    broadcast(undefined, { t: 'progress', done: done() });
  };

  function connect(send: Send) {
    let actions: Action[] = [];
    let within: number[][] = [];
    let stop = new AbortController();
    // The checks running for the page shown; a page shown anew starts a new set.
    let running = new Set<number>();
    const safeSend: Send = (message) => {
      try {
        send(message);
      } catch {
        // A socket that closed meanwhile: its close() follows.
      }
    };
    const close = (): void => {
      stop.abort();
      sessions.delete(session);
    };
    const session = { page: undefined as string | undefined, send: safeSend, close };
    sessions.add(session);

    const error = (message: string): void => {
      safeSend({ t: 'error', error: message });
    };

    // Runs action `index` of the page shown: a check here, any other action in the browser.
    const start = (index: number): void => {
      const action = actions[index];
      const page = session.page;
      if (action === undefined || page === undefined) return;
      if (action.kind !== CHECK) {
        safeSend({ t: 'trigger', page, line: action.line });
        return;
      }
      const mine = running;
      if (mine.has(index)) return;
      const fields = checkFields(action.body);
      if (fields === undefined) {
        error(
          `${page}.md:${action.line}: this check's fields are not Educates' (npm run workshop -- check)`,
        );
        return;
      }
      mine.add(index);
      const signal = stop.signal;
      void attempts(page, index, fields, signal).finally(() => {
        mine.delete(index);
        // Stopped half way (the page left, the tab closed): not an answer to show again.
        const shown = last.get(page)?.get(action.line)?.state;
        if (signal.aborted && (shown === 'running' || shown === 'waiting'))
          last.get(page)?.delete(action.line);
      });
    };

    const attempts = async (
      page: string,
      index: number,
      fields: NonNullable<ReturnType<typeof checkFields>>,
      signal: AbortSignal,
    ): Promise<void> => {
      const of = fields.retries === Infinity ? null : fields.retries + 1;
      const line = actions[index]?.line ?? 0;
      let program: string;
      try {
        program = findCheck(testsDir, fields.name);
      } catch (err) {
        report({
          t: 'check',
          page,
          line,
          state: 'failed',
          attempt: 1,
          of,
          status: (err as Error).message,
          output: '',
        });
        return;
      }
      for (let attempt = 1; ; attempt++) {
        report({
          t: 'check',
          page,
          line,
          state: 'running',
          attempt,
          of,
          status: 'running',
          output: '',
        });
        const result = await runCheck({
          program,
          args: fields.args.map(options.rewriteArg),
          timeoutSeconds: fields.timeout,
          env: options.env,
          cwd: options.cwd,
          signal,
        });
        if (signal.aborted) return;
        const more = of === null || attempt < of;
        const state = result.passed ? 'passed' : more ? 'waiting' : 'failed';
        report({
          t: 'check',
          page,
          line,
          state,
          attempt,
          of,
          status: result.status,
          output: result.output,
        });
        if (result.passed) {
          if (!fields.cascade) return;
          try {
            await sleep(fields.pause, undefined, { signal });
          } catch {
            return;
          }
          start(index + 1);
          return;
        }
        if (!more) return;
        try {
          await sleep(fields.delay * 1000, undefined, { signal });
        } catch {
          return;
        }
      }
    };

    // Actions with autostart inside the sections from `from` inward that are open: the page's
    // top level (from = -1) when it is shown, a section when the learner expands it.
    const autostart = (from: number): void => {
      actions.forEach((action, index) => {
        if (action.body['autostart'] !== true) return;
        const chain = within[index] ?? [];
        const inner = from < 0 ? chain : chain.slice(chain.indexOf(from) + 1);
        if (from >= 0 && !chain.includes(from)) return;
        if (inner.every((s) => actions[s]?.body['open'] === true)) start(index);
      });
    };

    return {
      handle(message: ExaminerMessage): void {
        if (message.t === 'page') {
          stop.abort();
          stop = new AbortController();
          running = new Set();
          let found: Action[] | undefined;
          try {
            found = actionsOf(message.page);
          } catch (err) {
            error((err as Error).message);
          }
          if (found === undefined) error(`no page ${message.page}`);
          session.page = found === undefined ? undefined : message.page;
          actions = found ?? [];
          within = sections(actions).within;
          safeSend({ t: 'progress', done: done() });
          if (found === undefined) return;
          for (const r of last.get(message.page)?.values() ?? []) safeSend(r);
          autostart(-1);
          return;
        }
        if (message.page !== session.page) {
          error(`${message.page} is not the page shown`);
          return;
        }
        const index = actions.findIndex((a) => a.line === message.line);
        const kind = actions[index]?.kind;
        if (message.t === 'run' && kind === CHECK) start(index);
        else if (message.t === 'expand' && kind === SECTION_BEGIN) autostart(index);
        else
          error(
            `line ${message.line} of ${message.page} is not a ${message.t === 'run' ? 'check' : 'section'}`,
          );
      },
      close,
    };
  }

  return {
    connect,
    done,
    close(): void {
      for (const s of [...sessions]) s.close();
    },
  };
}

export type Examiner = ReturnType<typeof createExaminer>;
