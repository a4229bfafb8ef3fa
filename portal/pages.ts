import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'yaml';

export interface Action {
  kind: string;
  body: Record<string, unknown>;
  line: number;
}

export type Block =
  { type: 'text'; text: string; line: number } | { type: 'action'; action: Action };

export interface Page {
  file: string;
  name: string;
  title: string;
  blocks: Block[];
}

export const PAGE_FILE = /^\d\d-[a-z0-9-]+\.md$/;
const FENCE = /^```([a-z]+:[a-z-]+)\s*$/;

export function listPages(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => PAGE_FILE.test(f))
    .sort()
    .map((f) => join(dir, f));
}

// A page is markdown; a fenced block whose info string is `area:verb` is an action with a
// YAML body. Everything else is text shown as it is.
export function parsePage(file: string): Page {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks: Block[] = [];
  let text: string[] = [];
  let textLine = 1;
  const flush = (): void => {
    if (text.join('').trim() !== '')
      blocks.push({ type: 'text', text: text.join('\n').trim(), line: textLine });
    text = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const kind = FENCE.exec(lines[i] ?? '')?.[1];
    if (kind === undefined) {
      if (text.length === 0) textLine = i + 1;
      text.push(lines[i] ?? '');
      continue;
    }
    flush();
    const start = i + 1;
    const body: string[] = [];
    while (++i < lines.length && lines[i] !== '```') body.push(lines[i] ?? '');
    if (i >= lines.length)
      throw new Error(`${basename(file)}:${start}: the ${kind} block is never closed`);
    let parsed: unknown;
    try {
      parsed = parse(body.join('\n')) ?? {};
    } catch (err) {
      throw new Error(
        `${basename(file)}:${start}: the ${kind} block is not YAML: ${(err as Error).message}`,
        { cause: err },
      );
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error(`${basename(file)}:${start}: the ${kind} block must be a YAML mapping`);
    }
    blocks.push({
      type: 'action',
      action: { kind, body: parsed as Record<string, unknown>, line: start },
    });
  }
  flush();
  const title =
    lines
      .find((l) => l.startsWith('# '))
      ?.slice(2)
      .trim() ?? basename(file);
  return { file, name: basename(file, '.md'), title, blocks };
}

export function str(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}
