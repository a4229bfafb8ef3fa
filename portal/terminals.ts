import type { IPty } from 'node-pty';

// The shells live in the server, not in the page: a tab that closes and comes back
// reattaches to them and is sent what they printed lately.
const REPLAY_CHARS = 256 * 1024;

export interface Client {
  send(message: string): void;
}

export interface Session {
  id: string;
  pty: IPty | undefined;
  exit: { code: number; signal: number } | undefined;
  output: string;
  clients: Set<Client>;
  cols: number;
  rows: number;
}

export interface TerminalOptions {
  cwd: string;
  shell: string;
  env: NodeJS.ProcessEnv;
}

type Spawn = typeof import('node-pty').spawn;

// node-pty is an optional dependency compiled by node-gyp: say plainly when it is missing.
export async function loadPty(): Promise<Spawn> {
  try {
    return (await import('node-pty')).spawn;
  } catch (err) {
    throw new Error(
      "the portal's terminals need node-pty, which is not installed or did not compile " +
        `(${(err as Error).message.split('\n')[0] ?? ''}). It is an optional dependency built ` +
        'with node-gyp: install python3, make and a C++ compiler, then run npm install node-pty',
      { cause: err },
    );
  }
}

export function createTerminals(spawn: Spawn, options: TerminalOptions) {
  const sessions = new Map<string, Session>();

  const broadcast = (session: Session, message: object): void => {
    const text = JSON.stringify(message);
    for (const client of session.clients) client.send(text);
  };

  const start = (session: Session): IPty => {
    const pty = spawn(options.shell, [], {
      name: 'xterm-256color',
      cols: session.cols,
      rows: session.rows,
      cwd: options.cwd,
      env: { ...options.env, TERM: 'xterm-256color', WORKSHOP_TERMINAL: session.id },
    });
    session.pty = pty;
    session.exit = undefined;
    pty.onData((data) => {
      session.output = (session.output + data).slice(-REPLAY_CHARS);
      broadcast(session, { t: 'out', data });
    });
    pty.onExit(({ exitCode, signal }) => {
      if (session.pty !== pty) return;
      session.pty = undefined;
      session.exit = { code: exitCode, signal: signal ?? 0 };
      broadcast(session, { t: 'exit', ...session.exit });
    });
    broadcast(session, { t: 'started' });
    return pty;
  };

  const get = (id: string): Session => {
    let session = sessions.get(id);
    if (session === undefined) {
      session = {
        id,
        pty: undefined,
        exit: undefined,
        output: '',
        clients: new Set(),
        cols: 100,
        rows: 24,
      };
      sessions.set(id, session);
      start(session);
    }
    return session;
  };

  return {
    sessions,
    attach(id: string, client: Client): Session {
      const session = get(id);
      session.clients.add(client);
      client.send(JSON.stringify({ t: 'replay', data: session.output }));
      if (session.exit !== undefined) client.send(JSON.stringify({ t: 'exit', ...session.exit }));
      return session;
    },
    detach(session: Session, client: Client): void {
      session.clients.delete(client);
    },
    input(session: Session, data: string): void {
      session.pty?.write(data);
    },
    // As Educates does: type the command and press Enter. A click on a dead terminal is
    // taken as asking for a new shell to run it in.
    execute(session: Session, command: string): void {
      (session.pty ?? start(session)).write(`${command}\r`);
    },
    interrupt(session: Session): void {
      session.pty?.write('\x03');
    },
    restart(session: Session): void {
      if (session.pty === undefined) start(session);
    },
    resize(session: Session, cols: number, rows: number): void {
      if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 2 || rows < 2) return;
      session.cols = Math.min(cols, 500);
      session.rows = Math.min(rows, 200);
      session.pty?.resize(session.cols, session.rows);
    },
    close(): void {
      for (const session of sessions.values()) {
        const pty = session.pty;
        session.pty = undefined;
        if (pty !== undefined) {
          try {
            process.kill(-pty.pid, 'SIGHUP');
          } catch {
            pty.kill('SIGHUP');
          }
        }
      }
      sessions.clear();
    },
  };
}

export type Terminals = ReturnType<typeof createTerminals>;
