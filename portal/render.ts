import { readFileSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import MarkdownIt from 'markdown-it';
import { parse } from 'yaml';
import { str } from './pages.js';

export interface RenderOptions {
  root: string;
  grafanaUrl: string;
  // Rewrites a command's service URLs, e.g. for a checkout where the services are only
  // reachable at their published ports.
  rewriteCommand: (command: string) => string;
}

export interface RenderedPage {
  name: string;
  title: string;
  html: string;
}

const ACTION = /^([a-z]+):([a-z-]+)$/;

const escape = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

// What the action block shows: its target, then what a click does, then the body.
function describe(kind: string, body: Record<string, unknown>): [string, string] {
  const session = str(body, 'session') ?? '1';
  switch (kind) {
    case 'terminal:execute':
      return [`Terminal ${session}: run`, str(body, 'command') ?? ''];
    case 'terminal:interrupt':
      return [`Terminal ${session}: interrupt (Ctrl-C)`, ''];
    case 'terminal:interrupt-all':
      return ['Every terminal: interrupt (Ctrl-C)', ''];
    case 'editor:open-file':
      return ['Editor: open', str(body, 'file') ?? ''];
    case 'editor:select-matching-text':
      return [`Editor: select in ${str(body, 'file') ?? ''}`, str(body, 'text') ?? ''];
    case 'dashboard:open-dashboard':
    case 'dashboard:reload-dashboard':
      return [`${str(body, 'name') ?? 'Grafana'}: open`, str(body, 'url') ?? ''];
    default:
      return [kind, ''];
  }
}

function renderAction(kind: string, source: string, line: number, options: RenderOptions): string {
  let body: Record<string, unknown>;
  try {
    const parsed: unknown = parse(source) ?? {};
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('the body must be a YAML mapping');
    body = parsed as Record<string, unknown>;
  } catch (err) {
    return `<div class="page-error">line ${line}: the ${escape(kind)} block cannot be read: ${escape((err as Error).message)}</div>`;
  }
  for (const key of ['url', 'command']) {
    const value = str(body, key);
    if (value === undefined) continue;
    body[key] =
      key === 'url'
        ? value.replace(/\{\{\s*grafana_url\s*\}\}/g, options.grafanaUrl)
        : options.rewriteCommand(value);
  }
  const [title, detail] = describe(kind, body);
  return (
    `<div class="action" tabindex="0" role="button" data-action="${escape(kind)}" data-line="${line}" data-body="${escape(JSON.stringify(body))}">` +
    `<div class="action-title">${escape(title)}</div>` +
    (detail === '' ? '' : `<pre class="action-detail">${escape(detail)}</pre>`) +
    '</div>\n'
  );
}

export function createRenderer(options: RenderOptions): (file: string) => RenderedPage {
  return (file: string): RenderedPage => {
    const source = readFileSync(file, 'utf8');
    // Raw HTML never reaches the page; HTML comments hold what only Educates shows
    // (educates/content.ts), so they are read as HTML in order to be dropped.
    const md = new MarkdownIt({ html: true, linkify: true });
    md.core.ruler.push('drop_html', (state) => {
      state.tokens = state.tokens.filter((t) => t.type !== 'html_block');
      for (const block of state.tokens)
        if (block.children !== null)
          block.children = block.children.filter((t) => t.type !== 'html_inline');
    });
    const fence = md.renderer.rules.fence;
    md.renderer.rules.fence = (tokens, idx, opts, env, self) => {
      const token = tokens[idx];
      if (token !== undefined && ACTION.test(token.info.trim()))
        return renderAction(token.info.trim(), token.content, (token.map?.[0] ?? 0) + 1, options);
      return fence === undefined
        ? self.renderToken(tokens, idx, opts)
        : fence(tokens, idx, opts, env, self);
    };
    // Relative links and images name files beside the page: a page opens as a page, any
    // other file of the repository in the editor pane, an image from /workshop/figures/.
    md.core.ruler.push('workshop_links', (state) => {
      for (const block of state.tokens) {
        for (const token of block.children ?? []) {
          const attr = token.type === 'link_open' ? 'href' : token.type === 'image' ? 'src' : '';
          const value = attr === '' ? null : token.attrGet(attr);
          if (value === null) continue;
          const target = String(value);
          if (/^[a-z]+:|^#|^\//i.test(target)) continue;
          const path = relative(options.root, resolve(dirname(file), target));
          if (token.type === 'image') token.attrSet('src', `/${path}`);
          else if (dirname(path) === 'workshop' && /^\d\d-.*\.md$/.test(basename(path)))
            token.attrSet('href', `#${basename(path, '.md')}`);
          else {
            token.attrSet('href', '#');
            token.attrSet('data-file', path);
          }
        }
      }
    });
    const html = md.render(source);
    const title = /^# (.+)$/m.exec(source)?.[1]?.trim() ?? basename(file, '.md');
    return { name: basename(file, '.md'), title, html };
  };
}
