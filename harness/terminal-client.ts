// A terminal's page as a test sees it: a WebSocket to /terminals/N that collects the
// output and acknowledges it as the page does (or, with `ack: false`, never), and can
// stop reading its socket altogether, as a dead laptop or a stuck tab would.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Socket } from 'node:net';
import WebSocket, { type ClientOptions } from 'ws';

export interface TerminalClient {
  ws: WebSocket;
  // What the terminal printed since the client attached (the replay included), the last
  // 1 MiB of it.
  text(): string;
  // How many characters of output arrived.
  received(): number;
  errors: string[];
  closed: Promise<number>;
  send(message: unknown): void;
  execute(command: string): void;
  waitFor(pattern: RegExp, ms?: number): Promise<string>;
  // Stops reading the socket (TCP's window fills, the server's queue grows), and resumes.
  stall(): void;
  unstall(): void;
  close(): Promise<void>;
}

const KEEP = 1 << 20;

export async function attachTerminal(
  url: string,
  id: string,
  options: { ack?: boolean; ws?: ClientOptions } = {},
): Promise<TerminalClient> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/terminals/${id}`, options.ws);
  let output = '';
  let count = 0;
  let unacked = 0;
  const errors: string[] = [];
  const closed = new Promise<number>((resolve) => {
    ws.once('close', resolve);
  });
  ws.on('error', () => undefined); // the close that follows is what a test looks at
  ws.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as { t: string; data?: string; error?: string };
    if (message.t === 'error') errors.push(message.error ?? '');
    if ((message.t !== 'out' && message.t !== 'replay') || message.data === undefined) return;
    // Kept short and cut only now and then: 150 MB of output copied whole per message
    // held this process's own event loop for seconds.
    output += message.data;
    if (output.length > 2 * KEEP) output = output.slice(-KEEP);
    count += message.data.length;
    unacked += message.data.length;
    if (options.ack !== false && unacked >= 32 * 1024 && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ t: 'ack', chars: unacked }));
      unacked = 0;
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('unexpected-response', (_req, res) => {
      reject(new Error(`the upgrade was answered ${res.statusCode}`));
    });
    ws.once('close', (code) => {
      reject(new Error(`closed ${code} before opening`));
    });
  });
  const socket = (): Socket => (ws as unknown as { _socket: Socket })._socket;
  const client: TerminalClient = {
    ws,
    text: () => output,
    received: () => count,
    errors,
    closed,
    send(message) {
      ws.send(JSON.stringify(message));
    },
    execute(command) {
      client.send({ t: 'execute', data: command });
    },
    async waitFor(pattern, ms = 60_000) {
      const end = performance.now() + ms;
      while (performance.now() < end) {
        if (pattern.test(output)) return output;
        if (ws.readyState !== WebSocket.OPEN) break;
        await sleep(100);
      }
      throw new Error(
        `terminal ${id} never showed ${String(pattern)}; it ends:\n${output.slice(-800)}`,
      );
    },
    stall() {
      socket().pause();
    },
    unstall() {
      socket().resume();
    },
    async close() {
      if (ws.readyState === WebSocket.CLOSED) return;
      ws.terminate();
      await closed;
    },
  };
  return client;
}

// The shell answers: a command typed into it prints what only a live shell computes.
// Whatever ran is interrupted first; Ctrl-C also makes the terminal discard what was typed
// after it and not yet read, so the command is typed again until it is answered.
export async function answers(client: TerminalClient): Promise<void> {
  const n = Math.floor(Math.random() * 1e6);
  const answer = new RegExp(`answer-${n + 1}`);
  client.send({ t: 'interrupt' });
  for (let wait = 1000; wait <= 64_000; wait *= 2) {
    client.send({ t: 'in', data: '\x15' }); // Ctrl-U: drop what is on the line
    client.execute(`echo answer-$((${n} + 1))`);
    try {
      await client.waitFor(answer, wait);
      return;
    } catch {
      // typed while the terminal was discarding, or the shell is slow: again, waiting longer
    }
  }
  await client.waitFor(answer, 1);
}

export async function shellAnswers(url: string, id: string): Promise<void> {
  const client = await attachTerminal(url, id);
  try {
    await answers(client);
  } finally {
    await client.close();
  }
}
