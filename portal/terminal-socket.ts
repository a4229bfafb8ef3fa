import type { WebSocket } from 'ws';
import { type Handler, createDispatcher, message } from './messages.js';
import type { Client, Session, Terminals } from './terminals.js';

// What the portal uses of a ws socket.
export type Socket = Pick<
  WebSocket,
  'send' | 'close' | 'terminate' | 'ping' | 'on' | 'once' | 'bufferedAmount'
>;

export const SESSION = /^[1-9]$/;
// What one frame may hold: a paste of 64 KiB, with room for its JSON.
export const MAX_FRAME = 96 * 1024;
const MAX_TEXT = 64 * 1024;

interface Context {
  terminals: Terminals;
  session: Session;
  client: Client;
}

// A message of type `t` with no other field, or with a `data` string of a page's command
// or a learner's keys.
const bare = (t: string, handle: (c: Context) => void): Handler<Context> =>
  message<Context, { t: string }>(
    {
      type: 'object',
      properties: { t: { type: 'string', const: t } },
      required: ['t'],
      additionalProperties: false,
    },
    handle,
  );
const withText = (t: string, handle: (c: Context, data: string) => void): Handler<Context> =>
  message<Context, { t: string; data: string }>(
    {
      type: 'object',
      properties: {
        t: { type: 'string', const: t },
        data: { type: 'string', maxLength: MAX_TEXT },
      },
      required: ['t', 'data'],
      additionalProperties: false,
    },
    (c, m) => {
      handle(c, m.data);
    },
  );

// What a terminal's page may send, one entry per type of message.
export const dispatch = createDispatcher<Context>({
  in: withText('in', (c, data) => {
    c.terminals.input(c.session, data);
  }),
  execute: withText('execute', (c, data) => {
    c.terminals.execute(c.session, data);
  }),
  interrupt: bare('interrupt', (c) => {
    c.terminals.interrupt(c.session);
  }),
  restart: bare('restart', (c) => {
    c.terminals.restart(c.session);
  }),
  resize: message<Context, { t: 'resize'; cols: number; rows: number }>(
    {
      type: 'object',
      properties: {
        t: { type: 'string', const: 'resize' },
        cols: { type: 'integer', minimum: 2, maximum: 500 },
        rows: { type: 'integer', minimum: 2, maximum: 200 },
      },
      required: ['t', 'cols', 'rows'],
      additionalProperties: false,
    },
    (c, m) => {
      c.terminals.resize(c.session, m.cols, m.rows);
    },
  ),
  // Flow control: the page's terminal has written this many more characters.
  ack: message<Context, { t: 'ack'; chars: number }>(
    {
      type: 'object',
      properties: {
        t: { type: 'string', const: 'ack' },
        chars: { type: 'integer', minimum: 0, maximum: 2 ** 31 },
      },
      required: ['t', 'chars'],
      additionalProperties: false,
    },
    (c, m) => {
      c.terminals.ack(c.session, c.client, m.chars);
    },
  ),
});

// One page's connection to terminal `id`. A refused message is answered with an `error`
// message and the connection goes on; a handler that throws ends this connection only.
export function serveTerminal(terminals: Terminals, id: string, socket: Socket): void {
  if (!SESSION.test(id)) {
    socket.close(1008, 'terminals are numbered 1 to 9');
    return;
  }
  const session = terminals.attach(id, socket);
  if (session === undefined) {
    socket.close(1013, 'too many clients on this terminal');
    return;
  }
  const context = { terminals, session, client: socket };
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    const outcome = dispatch(context, data, isBinary);
    if (outcome.ok) return;
    if ('reason' in outcome) {
      // A client that sends refused messages and reads none of the answers is let go
      // rather than queued for.
      if (socket.bufferedAmount > MAX_FRAME) socket.terminate();
      else socket.send(JSON.stringify({ t: 'error', error: outcome.reason }));
    } else {
      process.stderr.write(`workshop: terminal ${id}: ${outcome.error.stack ?? ''}\n`);
      socket.close(1011, 'the portal failed on that message');
    }
  });
  socket.on('close', () => {
    terminals.detach(session, socket);
  });
}
