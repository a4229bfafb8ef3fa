import type { Action } from '../portal/pages.js';

// The clickable actions of Educates 3.7 that a page may use, with the fields each takes and
// their types, from its "Workshop Instructions" documentation and its renderer's action
// table (workshop-images/base-environment/opt/gateway/src/frontend/scripts/educates.ts).
// An action or field not listed would do nothing there, or not what the portal does.
type FieldType = 'string' | 'integer' | 'boolean' | 'strings' | 'object' | 'count' | 'session';

interface ActionSpec {
  required?: string[];
  fields: Record<string, FieldType>;
}

// Every action that takes a YAML body also takes these.
const COMMON: Record<string, FieldType> = {
  prefix: 'string',
  title: 'string',
  description: 'string',
  autostart: 'boolean',
  cascade: 'boolean',
  hidden: 'boolean',
  cooldown: 'count',
  event: 'object',
};

export const EDUCATES_ACTIONS: Record<string, ActionSpec> = {
  'terminal:execute': {
    required: ['command'],
    fields: { command: 'string', session: 'session', clear: 'boolean' },
  },
  'terminal:execute-all': {
    required: ['command'],
    fields: { command: 'string', clear: 'boolean' },
  },
  'terminal:interrupt': { fields: { session: 'session' } },
  'terminal:interrupt-all': { fields: {} },
  'terminal:input': {
    required: ['text'],
    fields: { text: 'string', session: 'session', endl: 'boolean' },
  },
  'terminal:clear': { fields: { session: 'session' } },
  'terminal:clear-all': { fields: {} },
  'terminal:select': { fields: { session: 'session' } },
  // open-dashboard only shows the tab; a new URL needs reload-dashboard.
  'dashboard:open-dashboard': { required: ['name'], fields: { name: 'string' } },
  'dashboard:create-dashboard': {
    required: ['name', 'url'],
    fields: { name: 'string', url: 'string', focus: 'boolean' },
  },
  'dashboard:reload-dashboard': {
    required: ['name'],
    fields: { name: 'string', url: 'string', focus: 'boolean' },
  },
  'dashboard:delete-dashboard': { required: ['name'], fields: { name: 'string' } },
  'dashboard:open-url': { required: ['url'], fields: { url: 'string' } },
  'editor:open-file': { required: ['file'], fields: { file: 'string', line: 'integer' } },
  'editor:select-matching-text': {
    required: ['file', 'text'],
    fields: {
      file: 'string',
      text: 'string',
      isRegex: 'boolean',
      before: 'integer',
      after: 'integer',
      group: 'integer',
      start: 'integer',
      stop: 'integer',
    },
  },
  'examiner:execute-test': {
    required: ['name'],
    fields: {
      name: 'string',
      args: 'strings',
      timeout: 'integer',
      retries: 'count',
      delay: 'integer',
      url: 'string',
      inputs: 'object',
    },
  },
  'section:begin': { fields: { name: 'string', open: 'boolean' } },
  'section:end': { fields: { name: 'string', toggle: 'boolean' } },
  'section:heading': { fields: {} },
  'workshop:copy': { required: ['text'], fields: { text: 'string' } },
  'workshop:copy-and-edit': { required: ['text'], fields: { text: 'string' } },
};

// The dashboard's terminals: `layout: split/2` shows three, and only 1-3 are the ones
// terminal:*-all reaches (interrupt_all_terminals in the same file).
export const TERMINAL_SESSIONS = 3;

function typeProblem(type: FieldType, value: unknown): string | undefined {
  switch (type) {
    case 'string':
      return typeof value === 'string' ? undefined : 'a string';
    case 'integer':
      return Number.isInteger(value) ? undefined : 'an integer';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'true or false';
    case 'strings':
      return Array.isArray(value) && value.every((v) => typeof v === 'string')
        ? undefined
        : 'a list of strings';
    case 'object':
      return typeof value === 'object' && value !== null ? undefined : 'a mapping';
    case 'count':
      // YAML's .INF, or -1, for "no limit".
      return Number.isInteger(value) || value === Infinity ? undefined : 'an integer or .INF';
    case 'session': {
      const n = Number(value);
      return (typeof value === 'number' || typeof value === 'string') &&
        Number.isInteger(n) &&
        n >= 1 &&
        n <= TERMINAL_SESSIONS
        ? undefined
        : `a terminal from 1 to ${TERMINAL_SESSIONS} (Educates' split/2 layout has three)`;
    }
  }
}

// What Educates would not do as the page means it, one line per problem.
export function checkAction(action: Action): string[] {
  const spec = EDUCATES_ACTIONS[action.kind];
  if (spec === undefined) return [`Educates 3.7 has no ${action.kind} action`];
  const problems: string[] = [];
  for (const key of spec.required ?? [])
    if (!(key in action.body)) problems.push(`${action.kind} needs ${key}`);
  for (const [key, value] of Object.entries(action.body)) {
    const type = spec.fields[key] ?? COMMON[key];
    if (type === undefined) {
      problems.push(`Educates' ${action.kind} has no field ${key}`);
      continue;
    }
    const wanted = typeProblem(type, value);
    if (wanted !== undefined) problems.push(`${action.kind}: ${key} must be ${wanted}`);
  }
  return problems;
}
