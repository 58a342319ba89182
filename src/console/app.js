// The operator console: one ES module, no build step. Each view reads the gateway's JSON API
// (the same port); actions send the bearer token pasted in the header (kept for this tab only),
// so without one the console is read-only, as the API is.

const view = document.getElementById('view');
const TOKEN_KEY = 'gateway-console-token';
/** The charts drawn on the current page (the browser tests read their data). */
window.consoleCharts = [];

// ---- helpers --------------------------------------------------------------------------------

const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const when = (iso) => (iso ? esc(String(iso).replace('T', ' ').replace(/\.\d+Z$|Z$/, '')) : '<span class="muted">-</span>');
const badge = (s) => (s === null || s === undefined || s === '' ? '' : `<span class="badge ${esc(s)}">${esc(s)}</span>`);
const link = (href, text) => `<a href="${esc(href)}">${esc(text)}</a>`;

function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

async function api(path, opts = {}) {
  const headers = { Accept: 'application/json', ...(opts.headers || {}) };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, { method: opts.method || 'GET', headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const json = await r.json().catch(() => null);
  if (!r.ok) {
    const e = new Error(json?.error ? `${json.error.code}: ${json.error.message}` : `${r.status} ${r.statusText}`);
    e.status = r.status;
    e.code = json?.error?.code;
    throw e;
  }
  return json;
}

function toast(text, bad = false) {
  const t = document.getElementById('toast');
  t.textContent = text;
  t.className = `show${bad ? ' bad' : ''}`;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.className = ''), 6000);
}

/** A table of rows; columns: [header, row => html]. */
function table(rows, columns, opts = {}) {
  if (!rows.length) return `<p class="muted">${esc(opts.empty || 'Nothing here.')}</p>`;
  const head = columns.map(([h]) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr class="${opts.rowClass ? opts.rowClass(r) : ''}">${columns.map(([, f]) => `<td>${f(r)}</td>`).join('')}</tr>`).join('');
  return `<table${opts.id ? ` id="${opts.id}"` : ''}><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** Columns for rows whose fields are shown as they come (objects as JSON). */
function columnsOf(rows) {
  return Object.keys(rows[0] || {}).map((k) => [k, (o) => esc(typeof o[k] === 'object' && o[k] !== null ? JSON.stringify(o[k]) : o[k])]);
}

function query() {
  const i = location.hash.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : location.hash.slice(i + 1));
}

/** A filter form whose fields become the hash's query. */
function filters(fields, current) {
  const inputs = fields
    .map(([name, label, options]) =>
      options
        ? `<label>${esc(label)}<select name="${name}"><option value="">any</option>${options.map((o) => `<option${current.get(name) === o ? ' selected' : ''}>${esc(o)}</option>`).join('')}</select></label>`
        : `<label>${esc(label)}<input name="${name}" value="${esc(current.get(name) || '')}"></label>`,
    )
    .join('');
  return `<form class="filters" id="filters">${inputs}<button type="submit">Filter</button></form>`;
}

function bindFilters(base) {
  const f = document.getElementById('filters');
  if (!f) return;
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(f)) if (v) q.set(k, String(v));
    location.hash = `${base}${q.toString() ? `?${q}` : ''}`;
  });
}

/** Buttons with data-action run it (with the token), then the view is drawn again. */
function bindActions() {
  for (const b of view.querySelectorAll('button[data-action]')) {
    b.addEventListener('click', async () => {
      b.disabled = true;
      try {
        const r = await api(b.dataset.action, { method: 'POST', body: {} });
        toast(`${b.textContent}: done${r?.document?.id ? ` (document ${r.document.id})` : r?.id ? ` (${r.id})` : ''}${r?.status ? `, ${r.status}` : ''}`);
        view.dataset.lastAction = JSON.stringify({ ok: true, path: b.dataset.action, result: r });
        await route();
      } catch (e) {
        const why = e.status === 401 ? 'a token is needed for this (paste one above)' : e.status === 403 ? 'this token is not allowed' : e.message;
        toast(`${b.textContent}: refused: ${why}`, true);
        view.dataset.lastAction = JSON.stringify({ ok: false, path: b.dataset.action, status: e.status, code: e.code });
        b.disabled = false;
      }
    });
  }
}

// ---- views ----------------------------------------------------------------------------------

async function overview() {
  const [partners, kpis, dead, held, outbox] = await Promise.all([api('/partners'), api('/kpis?hours=6'), api('/dead-letters?limit=500'), api('/held?limit=500'), api('/outbox?status=FAILED&limit=500')]);
  const stale = partners.partners.filter((p) => p.stale).length;
  const sum = (a) => a.reduce((x, y) => x + y, 0);
  view.innerHTML = `<h1>Overview</h1>
    <div class="cards">
      <div class="card"><div class="n" id="kpi-received">${sum(kpis.received)}</div><div class="l">documents in the last 6 h</div></div>
      <div class="card"><div class="n">${sum(kpis.rejected)}</div><div class="l">rejected or parked</div></div>
      <div class="card"><div class="n">${sum(kpis.duplicates)}</div><div class="l">duplicates</div></div>
      <div class="card"><div class="n">${dead.deadLetters.length}</div><div class="l">${link('#/dead-letters', 'dead letters')}</div></div>
      <div class="card"><div class="n">${held.held.length}</div><div class="l">${link('#/held', 'waiting or in conflict')}</div></div>
      <div class="card"><div class="n">${outbox.outbox.length}</div><div class="l">${link('#/outbox?status=FAILED', 'failed deliveries')}</div></div>
      <div class="card"><div class="n">${stale}</div><div class="l">${link('#/partners', 'stale feeds')}</div></div>
    </div>
    <div class="charts">
      <div class="chart" id="chart-docs"></div>
      <div class="chart" id="chart-latency"></div>
    </div>
    <h2>Feeds</h2>${partnersTable(partners.partners)}`;
  const width = Math.max(380, document.getElementById('chart-docs').clientWidth - 16);
  const mk = (id, title, series, data) => {
    const u = new uPlot({ title, width, height: 240, series: [{}, ...series], axes: [{}, { size: 50 }] }, [kpis.at, ...data], document.getElementById(id));
    window.consoleCharts.push({ id, title, series: data.map((d) => Array.from(d)) });
    return u;
  };
  mk('chart-docs', 'Documents per 5 minutes', [{ label: 'received', stroke: '#1f4fd1', width: 2 }, { label: 'rejected', stroke: '#b42318', width: 2 }, { label: 'duplicates', stroke: '#b54708', width: 2 }], [kpis.received, kpis.rejected, kpis.duplicates]);
  mk('chart-latency', 'Seconds from landing', [{ label: 'to processed', stroke: '#067647', width: 2 }, { label: 'to the 846', stroke: '#1f4fd1', width: 2 }], [kpis.processingSeconds, kpis.landingTo846Seconds]);
}

function partnersTable(rows) {
  return table(
    rows,
    [
      ['partner', (p) => `${link(`#/documents?partner=${p.id}`, p.id)}<div class="muted">${esc(p.name || '')}</div>`],
      ['last in', (p) => when(p.lastInboundAt)],
      ['last out', (p) => when(p.lastOutboundAt)],
      ['feed age', (p) => (p.feedAgeSeconds === null ? '-' : `${Math.round(p.feedAgeSeconds / 60)} min`)],
      ['window', (p) => (p.expectFeedWithinMinutes ? `${p.expectFeedWithinMinutes} min` : '-')],
      ['feed', (p) => badge(p.expectFeedWithinMinutes ? (p.stale ? 'stale' : 'fresh') : '')],
      ['failed deliveries', (p) => (p.failedDeliveries ? link(`#/outbox?status=FAILED&partner=${p.id}`, p.failedDeliveries) : '0')],
      ['channels', (p) => p.channels.map((c) => `${esc(c.channel)} ${c.lastError ? badge('FAILED') : ''}`).join('<br>')],
    ],
    { id: 'partners' },
  );
}

async function partners() {
  const r = await api('/partners');
  view.innerHTML = `<h1>Partners</h1>${partnersTable(r.partners)}`;
}

async function documentsView() {
  const q = query();
  const api_q = new URLSearchParams();
  for (const k of ['partner', 'status', 'set', 'po', 'direction', 'correlation']) if (q.get(k)) api_q.set(k, q.get(k));
  const r = await api(`/documents?${api_q}`);
  view.innerHTML = `<h1>Documents</h1>${filters(
    [
      ['partner', 'partner'],
      ['direction', 'direction', ['in', 'out']],
      ['status', 'status', ['RECEIVED', 'PROCESSED', 'PARTIAL', 'REJECTED', 'DUPLICATE', 'PARKED', 'WAITING', 'HELD', 'EXPIRED', 'FAILED']],
      ['set', 'set'],
      ['po', 'PO'],
      ['correlation', 'flow (correlation id)'],
    ],
    q,
  )}${table(
    r.documents,
    [
      ['id', (d) => link(`#/documents/${d.id}`, d.id)],
      ['file', (d) => esc(d.filename)],
      ['partner', (d) => esc(d.partnerId)],
      ['sets', (d) => esc(d.setIds)],
      ['status', (d) => badge(d.status)],
      ['problem', (d) => (d.errorCode ? `<code>${esc(d.errorCode)}</code>` : '')],
      ['received', (d) => when(d.receivedAt)],
    ],
    { id: 'documents', empty: 'No document matches.' },
  )}`;
  bindFilters('#/documents');
}

/** The raw X12 as numbered segments, each rejection shown at the segment it is about. */
function segments(raw, rejections) {
  const text = raw.content;
  const x12 = /^\s*ISA/.test(text) && text.length > 106;
  if (!x12) return `<pre>${esc(text)}</pre>`;
  const start = text.indexOf('ISA');
  const term = text[start + 105];
  const segs = text.slice(start).split(term).map((s) => s.replace(/^\s+/, '')).filter((s) => s.length);
  const at = new Map();
  for (const r of rejections) if (r.segmentIndex) at.set(r.segmentIndex, [...(at.get(r.segmentIndex) || []), r]);
  const rows = segs.map((s, i) => {
    const why = at.get(i + 1) || [];
    return `<tr class="${why.length ? 'bad' : ''}" data-segment="${i + 1}"><td class="n">${i + 1}</td><td class="seg">${esc(s)}${term === '\n' ? '' : esc(term)}${why.map((r) => `<span class="why" data-code="${esc(r.code)}">${esc(r.code)}${r.element ? ` (element ${r.element}${r.component ? `-${r.component}` : ''})` : ''}: ${esc(r.message)}</span>`).join('')}</td></tr>`;
  });
  return `<table class="segments" id="segments"><tbody>${rows.join('')}</tbody></table>${raw.truncated ? `<p class="muted">The first ${text.length} bytes of ${raw.size}: ${link(raw.href, 'the whole file')}</p>` : ''}`;
}

async function documentDetail(id) {
  const r = await api(`/documents/${encodeURIComponent(id)}`);
  const d = r.document;
  const replayable = d.direction === 'in';
  view.innerHTML = `<h1>Document ${esc(d.id)} ${badge(d.status)}</h1>
    <p>${esc(d.filename)} from <strong>${esc(d.partnerId || 'unknown')}</strong> on ${esc(d.channel)}, ${esc(d.setIds || '')}; correlation <code>${esc(d.correlationId)}</code>${r.flows && r.flows.length ? `; flow ${r.flows.map((f) => link(`#/documents?correlation=${f}`, f.slice(0, 8))).join(', ')}` : ''}
    ${replayable ? `<button class="action" id="replay" data-action="/documents/${esc(d.id)}/replay">Replay</button>` : ''}</p>
    <h2>Timeline</h2>${table(r.timeline, [['at', (t) => when(t.at)], ['what', (t) => esc(t.what)], ['detail', (t) => esc(t.code || t.channel || t.waitsFor || t.by || (t.outboxId ? `outbox ${t.outboxId}` : ''))]])}
    <h2>Rejections</h2>${table(r.rejections, [['code', (x) => `<code>${esc(x.code)}</code>`], ['severity', (x) => badge(x.severity === 'error' ? 'REJECTED' : 'WAITING')], ['segment', (x) => esc(x.segmentIndex ? `#${x.segmentIndex} ${x.segmentTag || ''}` : '')], ['set position', (x) => esc(x.setPosition || '')], ['message', (x) => esc(x.message)]], { id: 'rejections', empty: 'None.' })}
    <h2>Content</h2>${r.raw ? segments(r.raw, r.rejections) : '<p class="muted">Not kept.</p>'}
    <h2>Events</h2>${r.events.length ? `<pre id="events">${esc(JSON.stringify(r.events, null, 2))}</pre>` : '<p class="muted">None.</p>'}
    <h2>Acknowledgments</h2>${table(r.acks, [['id', (a) => esc(a.id)], ['kind', (a) => esc(a.kind)], ['file', (a) => esc(a.filename)], ['status', (a) => badge(a.status)], ['sent', (a) => when(a.sentAt)]], { empty: 'None.' })}
    <h2>Replays</h2>${table(r.replays, [['id', (x) => link(`#/documents/${x.id}`, x.id)], ['status', (x) => badge(x.status)], ['events', (x) => esc(x.eventCount)], ['at', (x) => when(x.receivedAt)]], { id: 'replays', empty: 'None.' })}`;
  bindActions();
}

async function deadLetters() {
  const r = await api('/dead-letters?limit=200');
  view.innerHTML = `<h1>Dead letters</h1><p class="muted">Documents rejected, parked, partly applied, expired or failed, not replayed since. Fix the mapping or ask the partner, then replay.</p>${table(
    r.deadLetters,
    [
      ['id', (d) => link(`#/documents/${d.id}`, d.id)],
      ['file', (d) => esc(d.filename)],
      ['partner', (d) => esc(d.partnerId)],
      ['status', (d) => badge(d.status)],
      ['problem', (d) => `<code>${esc(d.errorCode)}</code> ${esc(d.errorMessage || '')}`],
      ['received', (d) => when(d.receivedAt)],
      ['', (d) => `<button class="action" data-action="/documents/${esc(d.id)}/replay">Replay</button>`],
    ],
    { id: 'dead-letters', empty: 'No dead letters.' },
  )}`;
  bindActions();
}

async function held() {
  const r = await api('/held?limit=200');
  view.innerHTML = `<h1>Waiting &amp; conflicts</h1><p class="muted">Events WAITING for what they refer to (applied when it comes), or in CONFLICT with what their business key had (an admin releases or discards them).</p>${table(
    r.held,
    [
      ['id', (h) => esc(h.id)],
      ['document', (h) => link(`#/documents/${h.documentId}`, h.documentId)],
      ['partner', (h) => esc(h.partner)],
      ['status', (h) => badge(h.status)],
      ['waits for / why', (h) => `${esc(h.waitsFor || '')} <code>${esc(h.code || '')}</code> ${esc(h.reason || '')}`],
      ['since', (h) => when(h.createdAt)],
      ['', (h) => (h.status === 'WAITING' || h.status === 'CONFLICT' ? `<button class="action" data-action="/held/${esc(h.id)}/release">Release</button> <button class="action" data-action="/held/${esc(h.id)}/discard">Discard</button>` : '')],
    ],
    { id: 'held', empty: 'Nothing waits and nothing is in conflict.' },
  )}`;
  bindActions();
}

async function outboxView() {
  const q = query();
  const a = new URLSearchParams();
  for (const k of ['status', 'partner', 'kind', 'correlation']) if (q.get(k)) a.set(k, q.get(k));
  const r = await api(`/outbox?${a}`);
  view.innerHTML = `<h1>Outbox</h1>${filters(
    [
      ['partner', 'partner'],
      ['kind', 'kind', ['997', '999', 'TA1', '846', '855', '856', '940']],
      ['status', 'status / 997', ['PENDING', 'SENT', 'FAILED', 'acknowledged', 'rejected', 'overdue', 'awaited']],
      ['correlation', 'flow (correlation id)'],
    ],
    q,
  )}${table(
    r.outbox,
    [
      ['id', (o) => esc(o.id)],
      ['partner', (o) => esc(o.partnerId)],
      ['kind', (o) => esc(o.kind)],
      ['file', (o) => esc(o.filename)],
      ['status', (o) => badge(o.status)],
      ['997', (o) => badge(o.ack)],
      ['flow', (o) => (o.correlationId ? link(`#/documents?correlation=${o.correlationId}`, String(o.correlationId).slice(0, 8)) : '')],
      ['carries', (o) => (o.sourceDocuments ? o.sourceDocuments.map((d) => link(`#/documents/${d}`, d)).join(' ') : o.sourceDocumentId ? link(`#/documents/${o.sourceDocumentId}`, o.sourceDocumentId) : '')],
      ['sent', (o) => when(o.sentAt)],
      ['', (o) => (o.status !== 'PENDING' ? `<button class="action" data-action="/outbox/${esc(o.id)}/resend">Resend</button>` : '')],
    ],
    { id: 'outbox', empty: 'Nothing.' },
  )}`;
  bindFilters('#/outbox');
  bindActions();
}

async function ordersView() {
  const q = query();
  const r = await api(`/orders${q.get('status') ? `?status=${encodeURIComponent(q.get('status'))}` : ''}`);
  view.innerHTML = `<h1>Orders</h1>${filters([['status', 'status', ['open', 'backordered', 'released', 'shipped', 'overdue', 'cancelled', 'rejected']]], q)}${table(
    r.orders,
    [
      ['PO', (o) => link(`#/orders/${encodeURIComponent(o.poNumber)}?partner=${encodeURIComponent(o.partner)}`, o.poNumber)],
      ['partner', (o) => esc(o.partner)],
      ['status', (o) => badge(o.status)],
      ['lines', (o) => esc(o.lines)],
      ['ordered', (o) => esc(o.ordered)],
      ['committed', (o) => esc(o.committed)],
      ['backordered', (o) => esc(o.backordered)],
      ['released', (o) => esc(o.released)],
      ['shipped', (o) => esc(o.shipped)],
      ['received', (o) => when(o.receivedAt)],
    ],
    { id: 'orders', empty: 'No order.' },
  )}`;
  bindFilters('#/orders');
}

async function orderDetail(po) {
  const q = query();
  const r = await api(`/orders/${encodeURIComponent(po)}${q.get('partner') ? `?partner=${encodeURIComponent(q.get('partner'))}` : ''}`);
  const steps = r.timeline || [];
  const flow = r.correlationId
    ? `<p>Flow <code id="flow">${esc(r.correlationId)}</code>: ${link(`#/documents?correlation=${r.correlationId}`, 'its documents')}, ${link(`#/outbox?correlation=${r.correlationId}`, 'what was sent for it')}</p>`
    : '';
  view.innerHTML = `<h1>Order ${esc(po)} ${badge(r.status || r.order?.status)}</h1>${flow}
    <h2>Lines</h2><pre>${esc(JSON.stringify(r.lines ?? r.order?.lines ?? [], null, 2))}</pre>
    <h2>Timeline</h2>${table(steps, [['at', (t) => when(t.at)], ['step', (t) => esc(t.step || t.what)], ['detail', (t) => esc(Object.entries(t).filter(([k]) => !['at', 'step', 'what'].includes(k)).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(', '))]], { id: 'timeline' })}`;
}

async function availability() {
  const q = query();
  const item = q.get('item');
  let body = '';
  if (item) {
    try {
      const r = await api(`/availability/${encodeURIComponent(item)}${q.get('partner') ? `?partner=${encodeURIComponent(q.get('partner'))}` : ''}`);
      body = `<h2>Positions</h2>${table(r.positions, columnsOf(r.positions))}
        <h2>Each partner's promise</h2>${table(r.promises || [], columnsOf(r.promises || []), { empty: 'No partner was promised this item.' })}
        ${r.partnerView ? `<h2>What ${esc(q.get('partner'))} is shown</h2><pre>${esc(JSON.stringify(r.partnerView, null, 2))}</pre>` : ''}`;
    } catch (e) {
      body = `<p class="muted">${esc(e.message)}</p>`;
    }
  }
  view.innerHTML = `<h1>Availability</h1>${filters([['item', 'our SKU'], ['partner', 'partner (its view)']], q)}${body}`;
  bindFilters('#/availability');
}

async function oversellsView() {
  const r = await api('/oversells');
  view.innerHTML = `<h1>Oversells</h1><p class="muted">PO lines short of what their partner had been promised.</p>${table(r.oversells, columnsOf(r.oversells), { id: 'oversells', empty: 'No oversell.' })}`;
}

async function divergencesView() {
  const r = await api('/divergences');
  view.innerHTML = `<h1>Divergences</h1><p class="muted">Where a partner's snapshot disagreed with the store.</p>${table(r.divergences, columnsOf(r.divergences), { id: 'divergences', empty: 'No divergence.' })}`;
}

// ---- routing --------------------------------------------------------------------------------

const ROUTES = [
  [/^#?\/?$/, overview],
  [/^#\/partners/, partners],
  [/^#\/documents\/(\d+)/, (m) => documentDetail(m[1])],
  [/^#\/documents/, documentsView],
  [/^#\/dead-letters/, deadLetters],
  [/^#\/held/, held],
  [/^#\/outbox/, outboxView],
  [/^#\/orders\/([^?]+)/, (m) => orderDetail(decodeURIComponent(m[1]))],
  [/^#\/orders/, ordersView],
  [/^#\/availability/, availability],
  [/^#\/oversells/, oversellsView],
  [/^#\/divergences/, divergencesView],
];

async function route() {
  const h = location.hash || '#/';
  window.consoleCharts = [];
  for (const a of document.querySelectorAll('header nav a')) a.classList.toggle('active', h.split('?')[0] === a.getAttribute('href') || (a.getAttribute('href') !== '#/' && h.startsWith(a.getAttribute('href'))));
  view.dataset.ready = 'false';
  try {
    for (const [re, fn] of ROUTES) {
      const m = re.exec(h);
      if (m) {
        await fn(m);
        break;
      }
    }
  } catch (e) {
    view.innerHTML = `<h1>Error</h1><p>${esc(e.message)}</p>`;
  }
  view.dataset.ready = 'true';
}

function showToken() {
  document.getElementById('token-state').textContent = token() ? 'actions enabled' : 'read-only';
}

document.getElementById('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const v = document.getElementById('token').value.trim();
  if (v) sessionStorage.setItem(TOKEN_KEY, v);
  else sessionStorage.removeItem(TOKEN_KEY);
  document.getElementById('token').value = '';
  showToken();
});

window.addEventListener('hashchange', route);
showToken();
route();
