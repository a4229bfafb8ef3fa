import type { IPty } from 'node-pty';
import { createReplay } from './replay.js';

// The shells live in the server, not in the page: a tab that closes and comes back
// reattaches to them and is sent what they printed lately.
const REPLAY_CHARS = 256 * 1024;

// Flow control, after xterm.js's guide and ttyd: a client acknowledges the characters its
// terminal has written, and what is sent and not yet acknowledged (or still queued in the
// socket, whichever is more) is its lag. The pty is paused while every client's lag is at
// HIGH or more (the fastest reader sets the pace, so a slow one holds back nobody) and
// resumed once one is at LOW or less; a client whose lag passes DROP, because a faster
// one keeps the pty going, is disconnected: the page reconnects and gets the replay. So a
// client costs the server at most about DROP, and `yes` with nobody reading costs only the
// replay. With no client at all the pty runs free: a load left running in a closed tab
// goes on.
export const FLOW = { HIGH: 512 * 1024, LOW: 128 * 1024, DROP: 2 * 1024 * 1024 };
// 32 clients at DROP each: 64 MiB at most queued for one terminal.
export const MAX_CLIENTS = 32;

export interface Client {
  send(message: string): void;
  // Bytes queued in the server for this client (ws's bufferedAmount).
  readonly bufferedAmount: number;
  // Ends the connection at once, for a client too far behind.
  terminate(): void;
}

interface Flow {
  sent: number;
  acked: number;
  // The acknowledged count at the last sweep: a client at HIGH that acknowledged nothing
  // between two sweeps has stalled.
  sweptAt: number;
}

export interface Session {
  id: string;
  pty: IPty | undefined;
  exit: { code: number; signal: number } | undefined;
  replay: ReturnType<typeof createReplay>;
  clients: Map<Client, Flow>;
  paused: boolean;
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

const lag = (client: Client, flow: Flow): number =>
  Math.max(flow.sent - flow.acked, client.bufferedAmount);

export function createTerminals(spawn: Spawn, options: TerminalOptions) {
  const sessions = new Map<string, Session>();

  const drop = (session: Session, client: Client): void => {
    session.clients.delete(client);
    client.terminate();
  };

  // Pause while every client is at HIGH or more; resume once one is at LOW or less, or
  // none is left.
  const pace = (session: Session): void => {
    let least = Infinity;
    for (const [client, flow] of session.clients) least = Math.min(least, lag(client, flow));
    if (!session.paused && session.clients.size > 0 && least >= FLOW.HIGH) {
      session.paused = true;
      session.pty?.pause();
    } else if (session.paused && (session.clients.size === 0 || least <= FLOW.LOW)) {
      session.paused = false;
      session.pty?.resume();
    }
  };

  const sendTo = (session: Session, client: Client, message: object, chars: number): void => {
    const flow = session.clients.get(client);
    if (flow === undefined) return;
    if (lag(client, flow) > FLOW.DROP) {
      drop(session, client);
      return;
    }
    flow.sent += chars;
    client.send(JSON.stringify(message));
  };

  const broadcast = (session: Session, message: object, chars = 0): void => {
    for (const client of [...session.clients.keys()]) sendTo(session, client, message, chars);
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
    session.paused = false;
    pty.onData((data) => {
      session.replay.push(data);
      broadcast(session, { t: 'out', data }, data.length);
      pace(session);
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
        replay: createReplay(REPLAY_CHARS),
        clients: new Map(),
        paused: false,
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
    // Undefined when the terminal already has MAX_CLIENTS.
    attach(id: string, client: Client): Session | undefined {
      const session = get(id);
      if (session.clients.size >= MAX_CLIENTS) return undefined;
      session.clients.set(client, { sent: 0, acked: 0, sweptAt: 0 });
      const data = session.replay.text();
      sendTo(session, client, { t: 'replay', data }, data.length);
      if (session.exit !== undefined) sendTo(session, client, { t: 'exit', ...session.exit }, 0);
      pace(session);
      return session;
    },
    detach(session: Session, client: Client): void {
      session.clients.delete(client);
      pace(session);
    },
    // The client's terminal has written `chars` more characters of what it was sent.
    ack(session: Session, client: Client, chars: number): void {
      const flow = session.clients.get(client);
      if (flow === undefined) return;
      flow.acked = Math.min(flow.sent, flow.acked + chars);
      pace(session);
    },
    // Called at each heartbeat: a client at HIGH or more that acknowledged nothing since
    // the last sweep is dropped, so that a page that stopped reading does not hold a
    // paused terminal for good.
    sweep(): void {
      for (const session of sessions.values()) {
        for (const [client, flow] of [...session.clients]) {
          if (lag(client, flow) >= FLOW.HIGH && flow.acked === flow.sweptAt) drop(session, client);
          else flow.sweptAt = flow.acked;
        }
        pace(session);
      }
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
      if (cols === session.cols && rows === session.rows) return;
      session.cols = cols;
      session.rows = rows;
      session.pty?.resize(cols, rows);
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
