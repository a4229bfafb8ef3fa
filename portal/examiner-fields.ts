// The fields of `examiner:execute-test`, `section:begin` and `section:end`, with the types and
// defaults Educates gives them (its renderer's educates.ts and examiner.ts), so that a page
// runs the same here and there. The portal and `workshop -- check` both read them here.
export const CHECK = 'examiner:execute-test';
export const SECTION_BEGIN = 'section:begin';
export const SECTION_END = 'section:end';

export interface CheckFields {
  name: string;
  args: string[];
  // Seconds; 0 or none is Educates' 15.
  timeout: number;
  // Tries after the first failure; -1 or .INF: for as long as the page is shown.
  retries: number;
  // Seconds between tries; 0 or none is Educates' 1.
  delay: number;
  autostart: boolean;
  cascade: boolean;
  // Milliseconds before a cascade starts the next action: Educates' 750 by default.
  pause: number;
}

type Kind = 'string' | 'strings' | 'number' | 'retries' | 'boolean';

const CHECK_KEYS: Record<string, Kind> = {
  name: 'string',
  title: 'string',
  description: 'string',
  prefix: 'string',
  args: 'strings',
  timeout: 'number',
  retries: 'retries',
  delay: 'number',
  autostart: 'boolean',
  cascade: 'boolean',
  pause: 'number',
};

const SECTION_KEYS: Record<string, Record<string, Kind>> = {
  [SECTION_BEGIN]: {
    name: 'string',
    title: 'string',
    prefix: 'string',
    description: 'string',
    open: 'boolean',
  },
  [SECTION_END]: { name: 'string' },
};

// Fields of Educates' that this portal does not run: said, rather than silently ignored.
const NOT_HERE = ['url', 'inputs', 'cooldown', 'hidden', 'event', 'toggle'];

function wrongType(key: string, kind: Kind, value: unknown): string | undefined {
  switch (kind) {
    case 'string':
      return typeof value === 'string' ? undefined : `${key} is a string`;
    case 'strings':
      // Educates' examiner refuses anything but strings (a YAML 250 is a number: quote it).
      return Array.isArray(value) && value.every((v) => typeof v === 'string' && !v.includes('\0'))
        ? undefined
        : `${key} is a list of strings (quote numbers: '250')`;
    case 'number':
      return typeof value === 'number' && value >= 0 && Number.isFinite(value)
        ? undefined
        : `${key} is a number of seconds, 0 or more`;
    case 'retries':
      return typeof value === 'number' &&
        (value === Infinity || (Number.isInteger(value) && value >= -1))
        ? undefined
        : `${key} is a whole number, -1 or .INF`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `${key} is true or false`;
  }
}

function problemsOf(body: Record<string, unknown>, keys: Record<string, Kind>): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    const kind = keys[key];
    if (kind === undefined) {
      problems.push(
        NOT_HERE.includes(key)
          ? `the portal does not run Educates' ${key}`
          : `no field ${key} (there are: ${Object.keys(keys).join(', ')})`,
      );
      continue;
    }
    const wrong = wrongType(key, kind, value);
    if (wrong !== undefined) problems.push(wrong);
  }
  return problems;
}

export function sectionProblems(kind: string, body: Record<string, unknown>): string[] {
  return problemsOf(body, SECTION_KEYS[kind] ?? {});
}

export function checkProblems(body: Record<string, unknown>): string[] {
  const problems = problemsOf(body, CHECK_KEYS);
  if (typeof body['name'] !== 'string') problems.unshift('a check needs the name of its program');
  return problems;
}

// A check's fields with Educates' defaults; undefined when they are not what Educates takes.
export function checkFields(body: Record<string, unknown>): CheckFields | undefined {
  if (checkProblems(body).length > 0) return undefined;
  const number = (key: string): number => (body[key] as number | undefined) ?? 0;
  const retries = number('retries');
  return {
    name: body['name'] as string,
    args: (body['args'] as string[] | undefined) ?? [],
    timeout: number('timeout') || 15,
    retries: retries < 0 ? Infinity : retries,
    delay: number('delay') || 1,
    autostart: body['autostart'] === true,
    cascade: body['cascade'] === true,
    pause: (body['pause'] as number | undefined) ?? 750,
  };
}

// The title an action box shows, as Educates builds it.
export function checkTitle(body: Record<string, unknown>): string {
  const text = (key: string): string | undefined =>
    typeof body[key] === 'string' ? body[key] : undefined;
  return `${text('prefix') ?? 'Examiner'}: ${text('title') ?? `Execute test case "${text('name') ?? ''}"`}`;
}

export function sectionTitle(body: Record<string, unknown>): string {
  const text = (key: string): string | undefined =>
    typeof body[key] === 'string' ? body[key] : undefined;
  return `${text('prefix') ?? 'Section'}: ${text('title') ?? 'Instructions'}`;
}

// Each action's enclosing sections, innermost last, by the index of their section:begin;
// a section:end closes the innermost open section of its name ('*' when unnamed). Problems
// name what does not pair up.
export function sections(actions: Array<{ kind: string; body: Record<string, unknown> }>): {
  within: number[][];
  problems: Array<{ index: number; message: string }>;
} {
  const open: Array<{ index: number; name: string }> = [];
  const within: number[][] = [];
  const problems: Array<{ index: number; message: string }> = [];
  actions.forEach(({ kind, body }, index) => {
    const name = typeof body['name'] === 'string' ? body['name'] : '*';
    if (kind === SECTION_END) {
      const top = open[open.length - 1];
      if (top?.name === name) open.pop();
      else
        problems.push({
          index,
          message: `section:end ${name} closes no open section of that name${top === undefined ? '' : ` (${top.name} is open)`}`,
        });
    }
    within.push(open.map((s) => s.index));
    if (kind === SECTION_BEGIN) open.push({ index, name });
  });
  for (const s of open)
    problems.push({ index: s.index, message: `section:begin ${s.name} is never ended` });
  return { within, problems };
}
