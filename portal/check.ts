import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { listVariants } from '../lib/variants.js';
import { checkBombardier } from './bombardier.js';
import { findCheck } from './examiner.js';
import {
  CHECK,
  SECTION_BEGIN,
  SECTION_END,
  checkProblems,
  sectionProblems,
  sections,
} from './examiner-fields.js';
import { type Action, type Page, listPages, parsePage, str } from './pages.js';

export interface Problem {
  page: string;
  line: number;
  message: string;
}

interface Repo {
  root: string;
  services: Set<string>;
  dashboards: Map<string, Set<string>>;
  variants: Set<string>;
}

const LAUNCHER_OPTIONS = new Set(['--port', '--host', '--apps-dir', '--workers']);

function loadRepo(root: string): Repo {
  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
    services?: Record<string, unknown>;
  };
  const dashboards = new Map<string, Set<string>>();
  const dir = join(root, 'grafana', 'dashboards');
  for (const file of existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : []) {
    const json = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
      uid?: string;
      templating?: { list?: Array<{ name: string }> };
    };
    dashboards.set(
      json.uid ?? basename(file, '.json'),
      new Set((json.templating?.list ?? []).map((v) => v.name)),
    );
  }
  return {
    root,
    services: new Set(Object.keys(compose.services ?? {})),
    dashboards,
    variants: new Set(listVariants(join(root, 'apps')).keys()),
  };
}

// Splits a command line as a POSIX shell would for the simple commands the pages use.
export function words(command: string): string[] {
  return [...command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}

// The programs the workstation image (portal/Dockerfile) provides; npm run test:compose
// finds each of them on the workshop service's PATH.
export const WORKSTATION_TOOLS = ['bombardier', 'curl', 'diff', 'cat', 'grep', 'npm'];

function checkTarget(url: string, repo: Repo, what = "bombardier's target"): string[] {
  const host = URL.canParse(url) ? new URL(url).hostname : '';
  return repo.services.has(host) || host === 'localhost'
    ? []
    : [`${what} ${url} names no compose service`];
}

// Words joined by hyphens, as the services are named: hello-world-v3-1.
const SERVICE_LIKE = /^[a-z][a-z0-9]*(-[a-z0-9]+)+$/;

function checkCommand(command: string, repo: Repo): string[] {
  const problems: string[] = [];
  for (const part of command.split(/\s\|\s/)) problems.push(...checkSimpleCommand(part, repo));
  return problems;
}

function checkSimpleCommand(command: string, repo: Repo): string[] {
  const argv = words(command);
  if (argv[0] === 'docker' || argv[0] === 'docker-compose')
    return [
      'the workstation has no Docker, and the environment already runs every service: no step starts or stops one',
    ];
  if (argv[0] !== undefined && !WORKSTATION_TOOLS.includes(argv[0]))
    return [
      `"${argv[0]}" is not a tool of the workstation (${WORKSTATION_TOOLS.join(', ')}); add it to portal/Dockerfile and portal/check.ts`,
    ];
  if (argv[0] === 'bombardier') {
    const { problems, urls } = checkBombardier(argv.slice(1));
    for (const url of urls) problems.push(...checkTarget(url, repo));
    return problems;
  }
  if (argv[0] === 'npm' && argv[1] === 'run' && argv[2] === 'start-server') {
    const [variant = '', ...options] = argv.slice(argv[3] === '--' ? 4 : 3);
    const problems = repo.variants.has(variant)
      ? []
      : [`"${variant}" is not a variant; choose one of: ${[...repo.variants].join(', ')}`];
    for (const option of options.filter((o) => o.startsWith('--'))) {
      if (!LAUNCHER_OPTIONS.has(option.split('=')[0] ?? ''))
        problems.push(`the launcher has no option ${option}`);
    }
    if (options.includes('--port') && options[options.indexOf('--port') + 1] === '8080')
      problems.push("port 8080 is the portal's own: run the launcher on a port of its own");
    return problems;
  }
  if (argv[0] === 'diff' || argv[0] === 'cat') {
    return argv
      .slice(1)
      .filter((a) => !a.startsWith('-') && !existsSync(join(repo.root, a)))
      .map((a) => `no file ${a}`);
  }
  if (argv[0] === 'curl') {
    return argv
      .slice(1)
      .filter((a) => /^https?:/.test(a))
      .flatMap((url) => {
        const host = URL.canParse(url) ? new URL(url).hostname : '';
        return host === 'localhost' || repo.services.has(host)
          ? []
          : [`curl's ${url} names neither localhost nor a compose service`];
      });
  }
  if (argv[0] === 'grep') return [];
  return [`"${argv[0] ?? ''}" is not a command the workshop checks; add it to portal/check.ts`];
}

function checkDashboardUrl(url: string, repo: Repo): string[] {
  if (!url.startsWith('{{grafana_url}}/d/'))
    return ['a dashboard url starts with {{grafana_url}}/d/<uid>'];
  const parsed = new URL(url.replace('{{grafana_url}}', 'http://grafana'));
  const uid = parsed.pathname.split('/')[2] ?? '';
  const variables = repo.dashboards.get(uid);
  if (variables === undefined)
    return [`no dashboard with uid "${uid}"; there are: ${[...repo.dashboards.keys()].join(', ')}`];
  const problems: string[] = [];
  for (const [key, value] of parsed.searchParams) {
    if (!key.startsWith('var-')) continue;
    const name = key.slice(4);
    if (!variables.has(name)) problems.push(`dashboard "${uid}" has no variable "${name}"`);
    else if (name === 'variant' && !repo.services.has(value))
      problems.push(`var-variant=${value} names no compose service`);
  }
  return problems;
}

function checkAction(action: Action, repo: Repo): string[] {
  const { kind, body } = action;
  const file = str(body, 'file');
  const path = file === undefined ? '' : join(repo.root, file);
  switch (kind) {
    case 'terminal:execute': {
      const command = str(body, 'command');
      return command === undefined
        ? ['terminal:execute needs a command']
        : checkCommand(command, repo);
    }
    case 'terminal:interrupt':
    case 'terminal:interrupt-all':
      return [];
    case 'editor:open-file':
      return file !== undefined && existsSync(path) ? [] : [`no file ${file ?? '(none given)'}`];
    case 'editor:select-matching-text': {
      const text = str(body, 'text');
      if (file === undefined || !existsSync(path)) return [`no file ${file ?? '(none given)'}`];
      if (text === undefined) return ['editor:select-matching-text needs a text'];
      const content = readFileSync(path, 'utf8');
      const found =
        body['isRegex'] === true ? new RegExp(text, 'm').test(content) : content.includes(text);
      return found ? [] : [`${file} has no text matching ${JSON.stringify(text)}`];
    }
    case 'dashboard:open-dashboard':
    case 'dashboard:reload-dashboard': {
      const url = str(body, 'url');
      return url === undefined ? [`${kind} needs a url`] : checkDashboardUrl(url, repo);
    }
    case CHECK: {
      const problems = checkProblems(body);
      const name = body['name'];
      if (typeof name !== 'string') return problems;
      try {
        findCheck(join(repo.root, 'workshop', 'examiner', 'tests'), name);
      } catch (err) {
        problems.push((err as Error).message);
      }
      // The services and URLs a check is given are the environment's.
      for (const arg of Array.isArray(body['args']) ? (body['args'] as unknown[]) : []) {
        if (typeof arg !== 'string') continue;
        if (/^https?:/.test(arg)) problems.push(...checkTarget(arg, repo, "the check's URL"));
        else if (SERVICE_LIKE.test(arg) && !repo.services.has(arg))
          problems.push(`"${arg}" names no compose service`);
      }
      return problems;
    }
    case SECTION_BEGIN:
    case SECTION_END:
      return sectionProblems(kind, body);
    default:
      return [`unknown action ${kind}`];
  }
}

// What makes a page an exercise: it sends load or runs a variant.
const EXERCISE = /^(bombardier |npm run start-server )/;

// An exercise ends with a check: after its last load or launcher command, an
// examiner:execute-test. Sections pair up by name.
function checkExercise(page: Page): Problem[] {
  const actions = page.blocks.flatMap((b) => (b.type === 'action' ? [b.action] : []));
  const problems = sections(actions).problems.map(({ index, message }) => ({
    page: page.name,
    line: actions[index]?.line ?? 0,
    message,
  }));
  let lastLoad = -1;
  actions.forEach((a, i) => {
    if (a.kind === 'terminal:execute' && EXERCISE.test(str(a.body, 'command') ?? '')) lastLoad = i;
  });
  if (lastLoad >= 0 && !actions.slice(lastLoad + 1).some((a) => a.kind === CHECK))
    problems.push({
      page: page.name,
      line: actions[lastLoad]?.line ?? 0,
      message:
        'an exercise ends with a check: add an examiner:execute-test after its last load (workshop/README.md, "Checks")',
    });
  return problems;
}

const QUOTED = /Quoted from \[([^\]]+)\]\([^)]+\):/;

// A page names the test behind each claim: `Tested by [file](path) "test name"`.
const TESTED = /Tested by \[([^\]]+)\]\([^)]+\) "([^"]+)"/g;

function checkText(page: Page, text: string, line: number, repo: Repo): Problem[] {
  const problems: Problem[] = [];
  for (const [, image] of text.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)) {
    if (image !== undefined && !existsSync(resolve(dirname(page.file), image)))
      problems.push({ page: page.name, line, message: `no image ${image}` });
  }
  for (const [, file = '', name = ''] of text.matchAll(TESTED)) {
    const path = join(repo.root, file);
    if (!existsSync(path))
      problems.push({ page: page.name, line, message: `no test file ${file}` });
    else if (!readFileSync(path, 'utf8').includes(name))
      problems.push({ page: page.name, line, message: `${file} has no test named "${name}"` });
  }
  // A table quoted from a results file must still be what that file says, row for row.
  const quoted = QUOTED.exec(text)?.[1];
  if (quoted !== undefined) {
    const path = join(repo.root, quoted);
    const rows = existsSync(path)
      ? new Set(
          readFileSync(path, 'utf8')
            .split('\n')
            .map((l) => l.trim()),
        )
      : new Set<string>();
    for (const row of text.split('\n').filter((l) => l.startsWith('|'))) {
      if (!rows.has(row.trim()))
        problems.push({
          page: page.name,
          line,
          message: `a row quoted from ${quoted} is not in it: ${row}`,
        });
    }
  }
  return problems;
}

export function checkWorkshop(root: string): Problem[] {
  let repo: Repo;
  try {
    repo = loadRepo(root);
  } catch (err) {
    return [
      {
        page: 'workshop',
        line: 0,
        message: `cannot read the repository the pages point at: ${(err as Error).message}`,
      },
    ];
  }
  const problems: Problem[] = [];
  const pages = listPages(join(root, 'workshop'));
  if (pages.length === 0) problems.push({ page: 'workshop', line: 0, message: 'no pages' });
  for (const file of pages) {
    let page: Page;
    try {
      page = parsePage(file);
    } catch (err) {
      problems.push({ page: basename(file, '.md'), line: 0, message: (err as Error).message });
      continue;
    }
    problems.push(...checkExercise(page));
    for (const block of page.blocks) {
      if (block.type === 'text') {
        problems.push(...checkText(page, block.text, block.line, repo));
        continue;
      }
      for (const message of checkAction(block.action, repo)) {
        problems.push({
          page: page.name,
          line: block.action.line,
          message: `${block.action.kind}: ${message}`,
        });
      }
    }
  }
  return problems;
}
