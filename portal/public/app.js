/* global document, window, location, localStorage, history, fetch, WebSocket, URL, URLSearchParams, ResizeObserver, setTimeout, clearTimeout, console */
// The learner's side of the portal: the page on the left, terminals, editor and Grafana
// on the right. Terminals are shells in the server; this page only shows them.
import { Terminal } from '/vendor/xterm/lib/xterm.mjs';
import { FitAddon } from '/vendor/addon-fit/lib/addon-fit.mjs';

const config = JSON.parse(document.getElementById('config').textContent);
const $ = (selector) => document.querySelector(selector);
const pageLinks = [...document.querySelectorAll('#page-list a[data-page]')];
const pageNames = pageLinks.map((a) => a.dataset.page);

function showError(message) {
  const box = document.createElement('div');
  box.className = 'page-error';
  box.textContent = message;
  const close = document.createElement('button');
  close.type = 'button';
  close.textContent = 'dismiss';
  close.onclick = () => box.remove();
  box.append(' ', close);
  $('#errors').append(box);
}
window.addEventListener('error', (e) => showError(`The portal failed: ${e.message}`));
window.addEventListener('unhandledrejection', (e) =>
  showError(`The portal failed: ${e.reason?.message ?? e.reason}`),
);

// Tabs.
function showTab(name, check = true) {
  for (const b of document.querySelectorAll('#tabs button'))
    b.classList.toggle('active', b.dataset.tab === name);
  for (const t of document.querySelectorAll('.tab'))
    t.classList.toggle('active', t.id === `tab-${name}`);
  if (name === 'terminals') for (const t of terminals.values()) t.fit.fit();
  if (name === 'grafana' && check)
    showGrafana().catch((err) => showError(String(err?.message ?? err)));
}
for (const b of document.querySelectorAll('#tabs button')) b.onclick = () => showTab(b.dataset.tab);

// Terminals: one pane per session, each attached over its own WebSocket.
const terminals = new Map();

function terminal(id) {
  const existing = terminals.get(id);
  if (existing) return existing;
  const pane = document.createElement('div');
  pane.className = 'terminal';
  pane.dataset.session = id;
  pane.innerHTML = `<div class="terminal-bar">Terminal ${id} <span class="status"></span></div><div class="screen"></div>`;
  const panes = [...document.querySelectorAll('#tab-terminals .terminal')];
  const after = panes.find((p) => Number(p.dataset.session) > Number(id));
  $('#tab-terminals').insertBefore(pane, after ?? null);
  const term = new Terminal({ convertEol: false, scrollback: 5000, fontSize: 13 });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(pane.querySelector('.screen'));
  const t = { id, term, fit, pane, ws: undefined, queue: [] };
  terminals.set(id, t);
  term.onData((data) => send(t, { t: 'in', data }));
  term.onResize(({ cols, rows }) => send(t, { t: 'resize', cols, rows }));
  new ResizeObserver(() => {
    if (pane.offsetParent !== null) fit.fit();
  }).observe(pane);
  for (const other of terminals.values()) other.fit.fit();
  connect(t);
  return t;
}

function status(t, html) {
  const span = t.pane.querySelector('.status');
  span.innerHTML = html;
  const button = span.querySelector('button');
  if (button)
    button.onclick = () => {
      send(t, { t: 'restart' });
      t.term.focus();
    };
}

// Flow control (xterm.js's guide): the server sends a terminal's output only as fast as
// this page's terminal writes it, told by an ack every ACK_CHARS written characters.
const ACK_CHARS = 32 * 1024;

function connect(t) {
  const ws = new WebSocket(
    `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/terminals/${t.id}`,
  );
  t.ws = ws;
  let unacked = 0;
  const write = (data) =>
    t.term.write(data, () => {
      unacked += data.length;
      if (unacked < ACK_CHARS || ws.readyState !== WebSocket.OPEN) return;
      ws.send(JSON.stringify({ t: 'ack', chars: unacked }));
      unacked = 0;
    });
  ws.onopen = () => {
    status(t, '');
    ws.send(JSON.stringify({ t: 'resize', cols: t.term.cols, rows: t.term.rows }));
    for (const message of t.queue.splice(0)) ws.send(message);
  };
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.t === 'replay') {
      t.term.reset();
      write(message.data);
    } else if (message.t === 'out') write(message.data);
    else if (message.t === 'started') status(t, '');
    else if (message.t === 'exit')
      status(
        t,
        `<span class="dead">the shell exited (code ${message.code})</span> <button type="button">Start a new shell</button>`,
      );
    else if (message.t === 'error')
      console.warn(`terminal ${t.id}: the portal refused a message: ${message.error}`);
  };
  ws.onclose = () => {
    if (t.ws !== ws) return;
    status(t, '<span class="dead">disconnected from the portal; reconnecting&hellip;</span>');
    setTimeout(() => connect(t), 2000);
  };
}

function send(t, message) {
  const text = JSON.stringify(message);
  if (t.ws?.readyState === WebSocket.OPEN) t.ws.send(text);
  else t.queue.push(text);
}

// The editor pane: a file of the repository, highlighted, lines marked by a selection. A
// selection is asked for by its page and line: the server takes its text from the page.
async function openFile(body, selectionLine) {
  showTab('editor');
  const response = await fetch(
    selectionLine === undefined
      ? `/api/file?${new URLSearchParams({ path: body.file ?? '' })}`
      : `/api/selection?${new URLSearchParams({ page: current, line: selectionLine })}`,
  );
  const view = await response.json();
  const editor = $('#editor');
  if (!response.ok) {
    $('#editor-path').textContent = body.file ?? '';
    editor.innerHTML = '';
    const error = document.createElement('div');
    error.className = 'page-error';
    error.textContent = view.error;
    editor.append(error);
    showError(view.error);
    return;
  }
  $('#editor-path').textContent = view.path;
  const code = document.createElement('pre');
  code.className = 'code hljs';
  code.innerHTML = view.lines
    .map((html, i) => {
      const n = i + 1;
      const marked = view.start !== undefined && n >= view.start && n <= view.end;
      return `<div class="line${marked ? ' marked' : ''}" data-line="${n}"><span class="ln">${n}</span>${html || ' '}</div>`;
    })
    .join('');
  editor.replaceChildren(code);
  const target = code.querySelector('.marked') ?? code.firstElementChild;
  target?.scrollIntoView({ block: view.start !== undefined ? 'center' : 'start' });
}

// The Grafana tab: the dashboard once Grafana answers the portal, and until then a line
// that says it does not, asked again every 3 s while the tab shows. In a codespace, a frame
// of another forwarded port shows nothing until that port's GitHub sign-in has been done in
// a tab of its own (its page refuses to be framed): the tab says so.
let dashboard = config.grafanaUrl;
let grafanaTimer;
async function showGrafana(reload = false) {
  clearTimeout(grafanaTimer);
  const frame = $('#grafana');
  const down = $('#grafana-down');
  $('#grafana-link').href = dashboard;
  const elsewhere = new URL(dashboard, location.href).origin !== location.origin;
  $('#grafana-note').hidden = !(config.codespace && elsewhere);
  const status = await (await fetch('/api/grafana')).json();
  frame.hidden = !status.up;
  down.hidden = status.up;
  if (status.up) {
    if (reload || frame.getAttribute('src') !== dashboard) frame.src = dashboard;
    return;
  }
  down.textContent = status.message;
  if ($('#tab-grafana').classList.contains('active')) grafanaTimer = setTimeout(showGrafana, 3000);
}

function openDashboard(url) {
  dashboard = url;
  showTab('grafana', false);
  return showGrafana(true);
}

// What a click on an action does, as in Educates.
async function perform(kind, body, line) {
  const session = String(body.session ?? '1');
  switch (kind) {
    case 'terminal:execute':
      showTab('terminals');
      send(terminal(session), { t: 'execute', data: String(body.command ?? '') });
      terminal(session).term.focus();
      return;
    case 'terminal:interrupt':
      send(terminal(session), { t: 'interrupt' });
      return;
    case 'terminal:interrupt-all':
      for (const t of terminals.values()) send(t, { t: 'interrupt' });
      return;
    case 'editor:open-file':
      return openFile(body);
    case 'editor:select-matching-text':
      return openFile(body, line);
    case 'dashboard:open-dashboard':
    case 'dashboard:reload-dashboard':
      return openDashboard(String(body.url ?? config.grafanaUrl));
    default:
      showError(`This portal does not know the action ${kind}.`);
  }
}

// Pages: the current one is in the address (#name) and survives a reload.
let current;
async function showPage(name) {
  if (!pageNames.includes(name)) name = pageNames[0];
  current = name;
  localStorage.setItem('workshop-page', name);
  if (location.hash !== `#${name}`) history.replaceState(null, '', `#${name}`);
  const index = pageNames.indexOf(name);
  $('#prev').disabled = index <= 0;
  $('#next').disabled = index >= pageNames.length - 1;
  for (const a of pageLinks) a.classList.toggle('current', a.dataset.page === name);
  $('#page-title').textContent = pageLinks[index]?.textContent ?? name;
  $('#page-list').open = false;
  const article = $('#page');
  const response = await fetch(`/api/pages/${encodeURIComponent(name)}`);
  const page = await response.json();
  if (current !== name) return;
  if (!response.ok) {
    article.innerHTML = '<div class="page-error"></div>';
    article.firstChild.textContent = `This page cannot be shown: ${page.error}`;
    return;
  }
  article.innerHTML = page.html;
  document.title = `${page.title} | lab-node-metrics workshop`;
  $('#left').scrollTop = 0;
}

$('#page').addEventListener('click', (event) => {
  const action = event.target.closest('.action');
  if (action) {
    action.classList.add('done');
    perform(action.dataset.action, JSON.parse(action.dataset.body), action.dataset.line).catch(
      (err) => showError(String(err?.message ?? err)),
    );
    return;
  }
  const link = event.target.closest('a[data-file]');
  if (link) {
    event.preventDefault();
    openFile({ file: link.dataset.file });
  }
});
$('#page').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && event.target.classList.contains('action')) event.target.click();
});
$('#prev').onclick = () => showPage(pageNames[pageNames.indexOf(current) - 1]);
$('#next').onclick = () => showPage(pageNames[pageNames.indexOf(current) + 1]);
window.addEventListener('hashchange', () => showPage(location.hash.slice(1)));
window.addEventListener('resize', () => {
  for (const t of terminals.values()) if (t.pane.offsetParent !== null) t.fit.fit();
});

// For the browser tests and for anyone curious: what a terminal holds, as text.
window.workshop = {
  terminalText(id) {
    const t = terminals.get(String(id));
    if (!t) return '';
    const buffer = t.term.buffer.active;
    const lines = [];
    for (let i = 0; i < buffer.length; i++) {
      const line = buffer.getLine(i);
      const text = line.translateToString(true);
      // A long line wrapped by the terminal is one line of output.
      if (line.isWrapped && lines.length > 0) lines[lines.length - 1] += text;
      else lines.push(text);
    }
    return lines.join('\n');
  },
};

terminal('1');
terminal('2');
for (const id of await (await fetch('/api/terminals')).json()) terminal(id);
await showPage(location.hash.slice(1) || localStorage.getItem('workshop-page') || pageNames[0]);
