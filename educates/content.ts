import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parse, stringify } from 'yaml';
import { PAGE_FILE, parsePage } from '../portal/pages.js';

export interface ContentOptions {
  // "service:port" -> "127.0.0.1:port": a session reaches the compose services only at
  // the ports they publish on 127.0.0.1 (portal/services.ts).
  rewriteCommand: (command: string) => string;
}

// Educates' Hugo renderer fills these from the session (its `param` shortcode); the ingress
// named grafana in resources/workshop.yaml answers at this address.
export const GRAFANA_URL =
  '{{< param ingress_protocol >}}://grafana-{{< param session_name >}}.' +
  '{{< param ingress_domain >}}{{< param ingress_port_suffix >}}';

const FENCE = /^```([a-z]+:[a-z-]+)\s*$/;
const LINK = /(!?)\[([^\]]*)\]\(([^)\s]+)\)/g;

// Markers a page may hold for text that is true in one form only. Both are HTML comments:
// `<!-- educates: omit -->` ... `<!-- educates: end -->` is left out of the session's page;
// `<!-- educates: add` ... `-->` (hidden on a code host and in the portal) is shown there.
const OMIT = '<!-- educates: omit -->';
const END = '<!-- educates: end -->';
const ADD = '<!-- educates: add';

function regions(lines: string[], page: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === OMIT) {
      const end = lines.indexOf(END, i);
      if (end < 0) throw new Error(`${page}:${i + 1}: "${OMIT}" has no "${END}"`);
      i = end;
    } else if (line.trim() === ADD) {
      const end = lines.findIndex((l, j) => j > i && l.trim() === '-->');
      if (end < 0) throw new Error(`${page}:${i + 1}: "${ADD}" is never closed by "-->"`);
      const added = lines.slice(i + 1, end);
      if (added.some((l) => FENCE.test(l)))
        throw new Error(
          `${page}:${i + 1}: an action in "${ADD}" would be an action the portal runs too`,
        );
      out.push(...added);
      i = end;
    } else out.push(line);
  }
  return out;
}

// A relative link names another page, or a file of the repository, which in a session is in
// the home directory and open in the editor: the page link becomes the page's address in
// the session, the file its path as code.
function links(text: string, page: string): string {
  return text.replace(LINK, (_, bang: string, label: string, target: string) => {
    if (bang === '!')
      throw new Error(`${page}: images are not carried to Educates yet (${target})`);
    if (/^[a-z]+:|^#/i.test(target)) return `[${label}](${target})`;
    const name = basename(target, '.md');
    if (PAGE_FILE.test(basename(target)) && !target.includes('/')) return `[${label}](../${name}/)`;
    return /^[\w./-]+$/.test(label) ? `\`${label}\`` : label;
  });
}

function action(kind: string, source: string, options: ContentOptions): string[] {
  const body = (parse(source) ?? {}) as Record<string, unknown>;
  if (typeof body['file'] === 'string') body['file'] = `~/${body['file']}`;
  if (typeof body['command'] === 'string')
    body['command'] = options.rewriteCommand(body['command']);
  // A check's arguments may name a service's URL too (workshop/examiner/tests/).
  if (Array.isArray(body['args']))
    body['args'] = body['args'].map((a: unknown) =>
      typeof a === 'string' ? options.rewriteCommand(a) : a,
    );
  const yaml = Object.keys(body).length === 0 ? '' : stringify(body, { lineWidth: 0 });
  return ['```' + kind, ...yaml.split('\n').filter((l) => l !== ''), '```'];
}

// A page of workshop/ as Educates' Hugo renderer takes it: the title in front matter, the
// action blocks with the session's paths and addresses, the rest as it is.
export function educatesPage(file: string, options: ContentOptions): string {
  const page = basename(file);
  const { title } = parsePage(file);
  const lines = regions(readFileSync(file, 'utf8').split('\n'), page);
  const first = lines.findIndex((l) => l.startsWith('# '));
  if (first >= 0) lines.splice(first, 1);
  const out: string[] = ['---', stringify({ title }).trim(), '---'];
  let text: string[] = [];
  let inFence = false;
  const flush = (): void => {
    out.push(links(text.join('\n'), page));
    text = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const kind = inFence ? undefined : FENCE.exec(line)?.[1];
    if (kind === undefined) {
      if (line.startsWith('```')) {
        // Plain code is shown as it is, links and all.
        flush();
        inFence = !inFence;
        out.push(line);
      } else if (inFence) out.push(line);
      else text.push(line);
      continue;
    }
    flush();
    const body: string[] = [];
    while (++i < lines.length && lines[i] !== '```') body.push(lines[i] ?? '');
    out.push(...action(kind, body.join('\n'), options));
  }
  flush();
  return (
    out
      .join('\n')
      .replace(/\{\{\s*grafana_url\s*\}\}/g, GRAFANA_URL)
      .replace(/^\n+/, '')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd() + '\n'
  );
}
