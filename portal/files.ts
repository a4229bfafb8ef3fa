import { readFileSync, statSync } from 'node:fs';
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

// A file of the repository, never outside it: the editor pane reads through this.
export function repoPath(root: string, path: string): string {
  const full = resolve(root, path.replace(/^~\//, ''));
  const inside = relative(root, full);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside))
    throw new Error(`${path} is not a file of the repository`);
  return full;
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
    language === undefined
      ? text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'))
      : hljs.highlight(text, { language, ignoreIllegals: true }).value;
  return splitLines(html);
}

export function viewFile(root: string, path: string, selection?: Selection): FileView {
  const full = repoPath(root, path);
  let text: string;
  try {
    if (statSync(full).size > 1 << 20) throw new Error(`${path} is over 1 MiB`);
    text = readFileSync(full, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT' ? `no file ${path}` : `cannot read ${path}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const view: FileView = { path, lines: highlight(full, text.replace(/\n$/, '')) };
  if (selection === undefined) return view;
  let index: number;
  let length: number;
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
