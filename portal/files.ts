import { readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, extname, isAbsolute, relative, resolve } from 'node:path';
import hljs from 'highlight.js';

export interface FileView {
  path: string;
  lines: string[];
  // 1-based, inclusive: the lines a selection marks.
  start?: number;
  end?: number;
  message?: string;
}

export interface Selection {
  text: string;
  isRegex: boolean;
  before: number;
  after: number;
}

const LANGUAGES: Record<string, string> = {
  '.ts': 'typescript',
  '.js': 'javascript',
  '.mjs': 'javascript',
  '.json': 'json',
  '.yml': 'yaml',
  '.yaml': 'yaml',
  '.md': 'markdown',
  '.sh': 'bash',
};

// Highlighting costs the event loop about 1.5 ms a KiB on this project's machine (a
// 0.9 MB file held it 0.5 s): a file over 64 KiB is shown plain, and what was
// highlighted is kept by path, size and mtime, 32 files at most.
const HIGHLIGHT_CHARS = 64 * 1024;
const CACHED_FILES = 32;
const MAX_BYTES = 1 << 20;

const within = (root: string, full: string): boolean => {
  const inside = relative(root, full);
  return inside !== '' && !inside.startsWith('..') && !isAbsolute(inside);
};

// A file of the repository, never outside it, symbolic links followed (a link inside the
// repository to /etc/passwd is outside it): the editor pane reads through this.
export function repoPath(root: string, path: string): string {
  const outside = new Error(`${path} is not a file of the repository`);
  const full = resolve(root, path.replace(/^~\//, ''));
  if (!within(root, full)) throw outside;
  let real: string;
  try {
    real = realpathSync(full);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `no file ${path}` : `cannot read ${path}: ${code ?? ''}`, {
      cause: err,
    });
  }
  if (!within(realpathSync(root), real)) throw outside;
  return real;
}

// hljs marks tokens with <span>s that can run over several lines (a block comment):
// close them at each line's end and reopen them on the next, so each line stands alone.
export function splitLines(html: string): string[] {
  const lines: string[] = [];
  const open: string[] = [];
  let line = '';
  for (const [token] of html.matchAll(/<span[^>]*>|<\/span>|\n|[^<\n]+|</g)) {
    if (token === '\n') {
      lines.push(line + '</span>'.repeat(open.length));
      line = open.join('');
    } else {
      if (token.startsWith('<span')) open.push(token);
      else if (token === '</span>') open.pop();
      line += token;
    }
  }
  lines.push(line);
  return lines;
}

function highlight(file: string, text: string): string[] {
  const language =
    LANGUAGES[extname(file)] ?? (basename(file) === 'Dockerfile' ? 'dockerfile' : undefined);
  const html =
    language === undefined || text.length > HIGHLIGHT_CHARS
      ? text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'))
      : hljs.highlight(text, { language, ignoreIllegals: true }).value;
  return splitLines(html);
}

const highlighted = new Map<string, { stamp: string; lines: string[] }>();

function cachedLines(full: string, stamp: string, text: string): string[] {
  const hit = highlighted.get(full);
  highlighted.delete(full);
  const entry = hit?.stamp === stamp ? hit : { stamp, lines: highlight(full, text) };
  highlighted.set(full, entry);
  for (const key of highlighted.keys()) {
    if (highlighted.size <= CACHED_FILES) break;
    highlighted.delete(key);
  }
  return entry.lines;
}

export function viewFile(root: string, path: string, selection?: Selection): FileView {
  const full = repoPath(root, path);
  let text: string;
  let stamp: string;
  try {
    const stat = statSync(full);
    if (!stat.isFile()) throw new Error(`${path} is not a file`);
    if (stat.size > MAX_BYTES) throw new Error(`${path} is over 1 MiB`);
    stamp = `${stat.size}:${stat.mtimeMs}`;
    text = readFileSync(full, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  const view: FileView = { path, lines: cachedLines(full, stamp, text.replace(/\n$/, '')) };
  if (selection === undefined) return view;
  let index: number;
  let length: number;
  // The pattern comes from a page of the repository, never from the network: the portal
  // looks a selection up by page and line (server.ts).
  if (selection.isRegex) {
    const m = new RegExp(selection.text, 'm').exec(text);
    index = m?.index ?? -1;
    length = m?.[0].length ?? 0;
  } else {
    index = text.indexOf(selection.text);
    length = selection.text.length;
  }
  if (index < 0) throw new Error(`${path} has no text matching ${JSON.stringify(selection.text)}`);
  const first = text.slice(0, index).split('\n').length;
  const last = first + text.slice(index, index + length).split('\n').length - 1;
  view.start = Math.max(1, first - selection.before);
  view.end = Math.min(view.lines.length, last + selection.after);
  return view;
}
