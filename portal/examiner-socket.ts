import type { Examiner } from './examiner-session.js';
import { type Handler, answerRefused, createDispatcher, message } from './messages.js';
import { MAX_FRAME, type Socket } from './terminal-socket.js';

type Session = ReturnType<Examiner['connect']>;

// A page's name (06-response-completion) and an action's line: the examiner looks both up in
// the pages; nothing else from the network reaches it.
const PAGE = { type: 'string', pattern: '^\\d\\d-[a-z0-9-]{1,80}$' } as const;
const LINE = { type: 'integer', minimum: 1, maximum: 100_000 } as const;

const ofAction = (t: 'run' | 'expand'): Handler<Session> =>
  message<Session, { t: 'run' | 'expand'; page: string; line: number }>(
    {
      type: 'object',
      properties: { t: { type: 'string', enum: [t] }, page: PAGE, line: LINE },
      required: ['t', 'page', 'line'],
      additionalProperties: false,
    },
    (session, m) => {
      session.handle(m);
    },
  );

// What a page may send the examiner, one entry per type of message.
export const dispatch = createDispatcher<Session>({
  // The page the browser shows now: the checks of the one before stop.
  page: message<Session, { t: 'page'; page: string }>(
    {
      type: 'object',
      properties: { t: { type: 'string', const: 'page' }, page: PAGE },
      required: ['t', 'page'],
      additionalProperties: false,
    },
    (session, m) => {
      session.handle(m);
    },
  ),
  // A click on a check.
  run: ofAction('run'),
  // A section opened: its checks with autostart run.
  expand: ofAction('expand'),
});

// One page's connection to the examiner. A refused message is answered with an `error`
// message and the connection goes on; a handler that throws ends this connection only.
export function serveExaminer(examiner: Examiner, socket: Socket): void {
  const session = examiner.connect((m) => {
    socket.send(JSON.stringify(m));
  });
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    const outcome = dispatch(session, data, isBinary);
    if (!outcome.ok) answerRefused(socket, outcome, 'examiner', MAX_FRAME);
  });
  socket.on('close', () => {
    session.close();
  });
}
