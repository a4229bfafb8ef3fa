import { Ajv, type ErrorObject, type JSONSchemaType } from 'ajv';

// A WebSocket message is network input: it is parsed, shape-checked and bounded before
// anything acts on it. Each type of message is one entry of a table: a JSON schema and
// what to do with a message that passes it. The schemas are ajv's (fastify's own
// validator, already installed with it): one declarative line per field with its bound,
// `additionalProperties: false`, and JSONSchemaType ties each schema to its TypeScript
// type, so a schema that does not describe its type fails the typecheck. Hand-written
// type guards would be as long, with each bound written out by hand.

export type Handler<C> = (context: C, message: unknown) => void;

export type Outcome = { ok: true } | { ok: false; reason: string } | { ok: false; error: Error };

const ajv = new Ajv({ allErrors: false, strict: true });

// A message type: its schema (which names its `t` with `const`) and its handler.
export function message<C, T>(
  schema: JSONSchemaType<T>,
  handle: (context: C, message: T) => void,
): Handler<C> {
  const validate = ajv.compile(schema);
  return (context, value) => {
    if (!validate(value)) throw new Refused(describe(validate.errors));
    handle(context, value);
  };
}

class Refused extends Error {}

function describe(errors: ErrorObject[] | null | undefined): string {
  const e = errors?.[0];
  return e === undefined
    ? 'invalid'
    : `${e.instancePath === '' ? 'the message' : e.instancePath} ${e.message ?? 'is invalid'}`;
}

// Dispatches one frame: a text frame holding a JSON object whose `t` is a key of the
// table, then that type's check and handler. A refused message is an outcome, not an
// exception; an exception in a handler is returned too, for the caller to end that one
// connection: no message can end the process.
export function createDispatcher<C>(table: Record<string, Handler<C>>) {
  const types = new Map(Object.entries(table));
  return (context: C, data: Buffer, isBinary: boolean): Outcome => {
    if (isBinary) return { ok: false, reason: 'binary frames are not accepted' };
    let value: unknown;
    try {
      value = JSON.parse(data.toString('utf8'));
    } catch {
      return { ok: false, reason: 'not JSON' };
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return { ok: false, reason: 'not a JSON object' };
    const t = (value as { t?: unknown }).t;
    const handle = typeof t === 'string' ? types.get(t) : undefined;
    if (handle === undefined) return { ok: false, reason: 'no such message type' };
    try {
      handle(context, value);
      return { ok: true };
    } catch (err) {
      if (err instanceof Refused) return { ok: false, reason: `${String(t)}: ${err.message}` };
      return { ok: false, error: err instanceof Error ? err : new Error(String(err)) };
    }
  };
}
