// The Conversations tab. One module of views over the API (api.js), the
// event stream (stream.js) and IndexedDB (db.js). Views are rebuilt from
// state with plain DOM calls; user text only ever goes in as text nodes.
import { call, session, newClientId, ApiError } from './api.js';
import { connect } from './stream.js';
import * as db from './db.js';

const $ = sel => document.querySelector(sel);
const main = $('#main'), footer = $('#footer'), title = $('#title'), back = $('#back');

// h builds an element: h('button', {class: 'x', onclick}, 'text', child…).
function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  el.append(...kids.flat().filter(k => k != null && k !== false));
  return el;
}

const state = {
  me: null, people: [], jobs: [], business: '',
  filter: '', threads: [], cursor: '', loading: false,
  badge: 0, stream: null, live: false,
  view: null, // the open thread's view, while one is open
};

// ---- badge, network status, notices ----

function setBadge(n) {
  state.badge = n;
  const text = n > 99 ? '99+' : String(n);
  // The tab bar's badge in the inbox; the back button's in a thread.
  for (const el of document.querySelectorAll('#tab-badge, #back-badge')) {
    el.textContent = text;
    el.hidden = n === 0;
  }
  $('#tab-conversations')?.setAttribute('aria-label', n ? `Conversations, ${n} unread` : 'Conversations');
  back.setAttribute('aria-label', n ? `Back to the inbox, ${n} unread` : 'Back to the inbox');
  document.title = (n ? `(${n}) ` : '') + 'Conversations';
  if (navigator.setAppBadge) (n ? navigator.setAppBadge(n) : navigator.clearAppBadge()).catch(() => {});
}

function setNet(s) {
  state.live = s === 'live';
  const el = $('#net');
  el.dataset.state = s;
  el.textContent = { live: 'Live', offline: 'Offline: waiting for connection', connecting: 'Connecting…' }[s] ?? '';
}

let toastTimer;
function toast(text) {
  const el = $('#toast');
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 6000);
}

// ---- formatting ----

const person = id => state.people.find(p => p.id === id);
const nameOf = id => person(id)?.name ?? id;

const clock = t => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

function time(t) {
  if (!t) return '';
  const d = new Date(t), now = new Date();
  const hm = clock(t);
  return d.toDateString() === now.toDateString() ? hm : d.toLocaleDateString([], { month: 'short', day: 'numeric' }) + ' ' + hm;
}

function threadName(t) {
  if (t.kind === 'customer') return t.contact?.name || t.contact?.phone || t.contact?.email || 'Customer';
  if (t.subject) return t.subject;
  const others = (t.participants ?? []).filter(p => p !== state.me.id).map(nameOf);
  return others.join(', ') || 'Team';
}

// Twilio's error codes, and the library's own, in words a technician understands.
const reasons = {
  21610: 'the customer has opted out of texts (they replied STOP); nothing can be sent until they text START',
  30003: 'the phone is switched off or out of coverage',
  30004: 'the customer’s phone blocks messages from this number',
  30005: 'the number does not exist or is no longer in service',
  30006: 'the number is a landline or cannot receive texts',
  30007: 'the carrier filtered the message as spam',
  30008: 'the carrier could not deliver it and gave no reason',
};

function explain(m) {
  const why = reasons[m.error_code] || m.error_reason || 'the carrier gave no reason';
  return why.charAt(0).toUpperCase() + why.slice(1) + '.';
}

function statusLine(m) {
  switch (m.status) {
    case 'received': return time(m.created_at);
    case 'queued': return 'Queued';
    case 'sending': return 'Sending…';
    case 'sent': return 'Sent ' + time(m.sent_at || m.created_at);
    case 'delivered': return 'Delivered ' + time(m.delivered_at) + (m.sent_at ? ' · sent ' + time(m.sent_at) : '');
    case 'undelivered': return 'Not delivered: ' + explain(m);
    case 'failed': return 'Failed: ' + explain(m);
    // The provider may have it, but it could never be confirmed: the
    // customer may well have read it, so it is not shown as failed.
    case 'unknown': return 'May have been sent: the carrier never confirmed it';
  }
  return m.status;
}

// ---- sign-in ----

async function loadPeople() {
  const d = await call('GET', '/demo/people', undefined, { token: null });
  state.people = d.people;
  state.jobs = d.jobs ?? [];
  state.business = d.business;
  return d;
}

async function viewSignIn() {
  setView('Sign in', false);
  footer.replaceChildren();
  main.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  let d;
  try {
    d = await loadPeople();
  } catch {
    main.replaceChildren(h('p', { class: 'notice' }, 'The server cannot be reached. Sign-in needs a connection.'));
    return;
  }
  main.replaceChildren(
    h('p', {}, `Demo business ${d.business}: choose who you are. A real host signs you in with its own accounts.`),
    h('ul', { class: 'people' }, d.people.map(p => h('li', {},
      h('button', { class: 'person', 'data-staff': p.id, onclick: () => signIn(p) },
        h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(p.name)),
        h('span', {}, h('strong', {}, p.name), h('span', { class: 'muted block' }, p.about)))))));
}

function initials(name) {
  const letters = (name || '').split(/\s+/).filter(w => /^\p{L}/u.test(w)).map(w => w[0]).join('').slice(0, 2).toUpperCase();
  return letters || '☎';
}

function signIn(p) {
  session.set({ token: p.token, me: { id: p.id, name: p.name, role: p.role }, people: state.people, jobs: state.jobs });
  start();
  location.hash = '#/';
}

function signOut() {
  state.stream?.stop();
  state.stream = null;
  session.clear();
  state.me = null;
  setBadge(0);
  location.hash = '#/signin';
}

// ---- inbox ----

const filters = [['', 'All'], ['unread', 'Unread'], ['customer', 'Customers'], ['internal', 'Team']];

function inboxCacheKey() { return `${state.me.id}|inbox|${state.filter}`; }

async function loadInbox(more = false) {
  if (more && (!state.cursor || state.loading)) return;
  state.loading = true;
  const q = new URLSearchParams({ limit: '20' });
  if (state.filter) q.set('filter', state.filter);
  if (more) q.set('after', state.cursor);
  try {
    const page = await call('GET', '/v1/inbox?' + q);
    if (more) {
      const seen = new Set(state.threads.map(t => t.id));
      state.threads.push(...page.threads.filter(t => !seen.has(t.id)));
      state.cursor = page.next_cursor;
    } else {
      // Page one again (a refresh, a live event): keep what was scrolled in beyond it.
      const first = new Set(page.threads.map(t => t.id));
      const rest = state.cursor || state.threads.length > page.threads.length ? state.threads.filter(t => !first.has(t.id)) : [];
      state.threads = [...page.threads, ...rest];
      if (!rest.length) state.cursor = page.next_cursor;
      db.put('cache', page, inboxCacheKey()).catch(() => {});
    }
  } catch (e) {
    if (!e.offline) throw e;
    if (!more) {
      const cached = await db.get('cache', inboxCacheKey()).catch(() => null);
      if (cached && !state.threads.length) { state.threads = cached.threads; state.cursor = ''; }
    }
  } finally {
    state.loading = false;
  }
  if (location.hash === '#/' || location.hash === '') {
    renderInbox();
    $('#threads')?.setAttribute('data-loaded', 'true'); // for tests: a page from the server (or the cache) is shown
  }
}

let refreshTimer;
function refreshInboxSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => loadInbox().catch(showError), 30);
}

function viewInbox() {
  setView('Conversations', false);
  footer.replaceChildren(tabBar());
  main.replaceChildren(
    h('div', { class: 'toolbar' },
      h('div', { class: 'filters', role: 'group', 'aria-label': 'Show' },
        filters.map(([f, label]) => h('button', {
          class: 'filter', 'aria-pressed': String(state.filter === f), 'data-filter': f,
          onclick: () => { state.filter = f; state.threads = []; state.cursor = ''; viewInbox(); },
        }, label))),
      h('button', { class: 'icon', 'aria-label': 'Refresh the inbox', onclick: () => loadInbox().catch(showError) }, '⟳'),
      h('a', { class: 'button primary', href: '#/new' }, 'New team thread')),
    h('div', { id: 'pull', class: 'pull', 'aria-hidden': 'true' }, 'Pull to refresh'),
    h('ul', { id: 'threads', class: 'threads', 'aria-label': 'Conversations' }),
    h('div', { id: 'more', class: 'more' }),
    h('p', { class: 'signout' }, h('button', { class: 'link', onclick: signOut }, `Sign out ${state.me.name}`)));
  renderInbox();
  new IntersectionObserver(es => { if (es.some(e => e.isIntersecting)) loadInbox(true).catch(showError); })
    .observe($('#more'));
  loadInbox().catch(showError);
}

function renderInbox() {
  const ul = $('#threads');
  if (!ul) return;
  ul.replaceChildren(...state.threads.map(t => h('li', {},
    h('a', { class: 'thread' + (t.unread ? ' unread' : ''), href: '#/t/' + encodeURIComponent(t.id), 'data-thread': t.id },
      h('span', { class: 'avatar ' + t.kind, 'aria-hidden': 'true' }, t.kind === 'customer' ? initials(threadName(t)) : '#'),
      h('span', { class: 'body' },
        h('span', { class: 'row' },
          h('strong', { class: 'name' }, threadName(t)),
          h('time', { datetime: t.last_message_at }, time(t.last_message_at))),
        h('span', { class: 'row' },
          h('span', { class: 'preview' }, h('span', { class: 'tag' }, t.kind === 'customer' ? 'SMS' : 'Team'), ' ', t.preview || 'No messages yet'),
          t.unread ? h('span', { class: 'count', 'aria-label': `${t.unread} unread` }, String(t.unread)) : null))))));
  if (!state.threads.length) ul.append(h('li', { class: 'empty' }, state.filter === 'unread' ? 'Nothing unread.' : 'No conversations yet.'));
  $('#more').textContent = state.cursor ? 'Loading more…' : '';
  if (!performance.getEntriesByName('inbox-shown').length && state.threads.length) performance.mark('inbox-shown');
  // A page that did not fill the screen leaves the sentinel in view, where
  // the observer, which fires on changes only, would not see it again.
  const more = $('#more');
  if (state.cursor && !state.loading && more.getBoundingClientRect().top < main.getBoundingClientRect().bottom) {
    setTimeout(() => loadInbox(true).catch(showError), 0);
  }
}

// Pull to refresh: a finger pulling the inbox down from its top reloads it.
// The listeners are on main, which every view shares; they act only while
// the inbox (and its #pull indicator) is on screen.
function pullToRefresh() {
  let y0 = null, armed = false;
  const reset = () => {
    const pull = $('#pull');
    if (pull) { pull.style.height = '0'; pull.classList.remove('armed'); }
    y0 = null;
    armed = false;
  };
  main.addEventListener('touchstart', e => {
    y0 = $('#pull') && main.scrollTop === 0 && e.touches.length === 1 ? e.touches[0].clientY : null;
  }, { passive: true });
  // Not passive: while the finger pulls down from the top, the page must
  // not scroll, or the browser would take the gesture over.
  main.addEventListener('touchmove', e => {
    const pull = $('#pull');
    if (y0 == null || !pull) return;
    const dy = e.touches[0].clientY - y0;
    if (dy <= 0) return;
    e.preventDefault();
    armed = dy > 120;
    pull.style.height = Math.min(dy / 2, 60) + 'px';
    pull.classList.toggle('armed', armed);
    pull.textContent = armed ? 'Release to refresh' : 'Pull to refresh';
  }, { passive: false });
  main.addEventListener('touchend', () => {
    if (armed && $('#pull')) loadInbox().catch(showError);
    reset();
  });
  main.addEventListener('touchcancel', reset);
}

function tabBar() {
  return h('nav', { class: 'tabs', 'aria-label': 'App' },
    h('a', { id: 'tab-conversations', href: '#/', 'aria-current': 'page', 'aria-label': 'Conversations' },
      'Conversations ',
      h('span', { id: 'tab-badge', class: 'count', hidden: state.badge === 0 }, String(state.badge))),
    h('span', { class: 'muted' }, state.me.name));
}

// ---- a thread ----

async function viewThread(id) {
  const v = state.view = {
    id, thread: null, messages: new Map(), before: 0, suggestions: [], failed: [],
    draft: { id: '', version: 0, client_id: newClientId(), suggestion: null }, saveTimer: 0,
  };
  setView('…', true);
  main.replaceChildren(
    h('section', { id: 'jobs', class: 'jobs', 'aria-label': 'Job' }),
    h('button', { id: 'earlier', class: 'link earlier', hidden: true, onclick: () => loadHistory(v, true) }, 'Show earlier messages'),
    h('ol', { id: 'messages', class: 'messages', 'aria-label': 'Messages', 'aria-live': 'polite' }));
  footer.replaceChildren(
    h('div', { id: 'suggestions', class: 'suggestions', role: 'group', 'aria-label': 'Suggested replies' }),
    h('div', { id: 'conflict', class: 'notice', role: 'alert', hidden: true }),
    h('form', { id: 'composer', class: 'composer', onsubmit: e => { e.preventDefault(); sendComposer(v); } },
      h('label', { for: 'compose', class: 'visually-hidden' }, 'Message'),
      h('textarea', { id: 'compose', rows: '1', placeholder: 'Message', oninput: () => composerChanged(v), onkeydown: e => {
        if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); sendComposer(v); }
      } }),
      h('button', { id: 'send', class: 'primary', type: 'submit', disabled: true }, 'Send'),
      h('p', { id: 'segments', class: 'muted segments', 'aria-live': 'polite' })));
  new IntersectionObserver(es => { if (es.some(e => e.isIntersecting) && v.before) loadHistory(v, true); })
    .observe($('#earlier'));

  const cacheKey = `${state.me.id}|thread|${id}`;
  try {
    v.thread = await call('GET', '/v1/threads/' + encodeURIComponent(id));
  } catch (e) {
    if (!e.offline) return showError(e);
    v.thread = (await db.get('cache', cacheKey).catch(() => null))?.thread ?? null;
  }
  if (state.view !== v) return;
  if (v.thread) {
    setView(threadName(v.thread), true, v.thread.kind === 'customer' ? v.thread.contact?.phone : (v.thread.participants ?? []).map(nameOf).join(', '));
    $('#compose').setAttribute('aria-label', 'Message to ' + threadName(v.thread));
  }
  await Promise.all([loadHistory(v, false), loadJobs(v), loadDraft(v), loadSuggestions(v)]);
}

async function loadHistory(v, earlier) {
  const q = new URLSearchParams({ limit: '30' });
  if (earlier) {
    if (!v.before) return;
    q.set('before', v.before);
  }
  const cacheKey = `${state.me.id}|thread|${v.id}`;
  let page;
  try {
    page = await call('GET', `/v1/threads/${encodeURIComponent(v.id)}/messages?${q}`);
    if (!earlier) db.put('cache', { thread: v.thread, page }, cacheKey).catch(() => {});
  } catch (e) {
    if (!e.offline) return showError(e);
    if (earlier) return;
    page = (await db.get('cache', cacheKey).catch(() => null))?.page ?? { messages: [], next_before: 0 };
  }
  if (state.view !== v) return;
  for (const m of page.messages) v.messages.set(m.id, m);
  if (earlier || !v.loaded) v.before = page.next_before;
  v.loaded = true;
  const list = $('#messages');
  const keepBottom = !earlier;
  const h0 = main.scrollHeight - main.scrollTop;
  await renderMessages(v);
  if (keepBottom) main.scrollTop = main.scrollHeight;
  else main.scrollTop = main.scrollHeight - h0; // paging upward keeps the reader's place
  list.dataset.loaded = 'true'; // for tests: a page from the server (or the cache) is shown
  const newest = Math.max(0, ...page.messages.map(m => m.seq));
  if (!earlier && newest && document.visibilityState === 'visible' && navigator.onLine) markRead(v, newest);
}

async function markRead(v, seq) {
  if (v.readSeq >= seq) return;
  v.readSeq = seq;
  try {
    const r = await call('POST', `/v1/threads/${encodeURIComponent(v.id)}/read`, { seq });
    setBadge(r.badge);
  } catch { v.readSeq = 0; }
}

function kindLabel(m) {
  switch (m.kind) {
    case 'customer_sms': return m.direction === 'inbound' ? 'Text from customer' : 'Text' + (m.author ? ' · ' + nameOf(m.author) : '');
    case 'internal': return nameOf(m.author);
    case 'escalation': return 'Escalation from the receptionist';
    case 'workflow': return 'Automated ' + (m.channel === 'email' ? 'email' : 'text');
  }
  return m.kind;
}

function messageItem(m, pending) {
  const mine = m.direction === 'outbound' && (m.author === state.me.id || pending);
  const cls = ['msg', m.kind, m.direction, mine ? 'mine' : '', m.urgent ? 'urgent' : '', pending ? 'pending' : '',
    m.status === 'failed' || m.status === 'undelivered' ? 'failed' : ''].filter(Boolean).join(' ');
  const media = (m.media ?? []).map(x => /^image\//.test(x.content_type ?? '') || /\.(png|jpe?g|gif|webp)$/i.test(x.url)
    ? h('a', { href: x.url, target: '_blank', rel: 'noopener' }, h('img', { src: x.url, alt: 'Attached picture', loading: 'lazy', class: 'thumb' }))
    : h('a', { href: x.url, target: '_blank', rel: 'noopener', class: 'attachment' }, 'Attachment'));
  return h('li', { class: cls, 'data-id': m.id ?? '', 'data-client-id': m.client_id ?? '', 'data-status': m.status },
    h('span', { class: 'who' }, kindLabel(m), m.urgent ? h('span', { class: 'urgent-tag' }, 'Urgent') : null),
    m.subject ? h('strong', { class: 'block' }, m.subject) : null,
    h('p', { class: 'text' }, m.body),
    m.details ? h('details', {}, h('summary', {}, 'Call transcript'), h('p', { class: 'text' }, m.details)) : null,
    media.length ? h('div', { class: 'media' }, media) : null,
    h('span', { class: 'status', role: m.status === 'failed' ? 'alert' : null }, pending ? pending : statusLine(m)));
}

async function renderMessages(v) {
  const list = $('#messages');
  if (!list || state.view !== v) return;
  const msgs = [...v.messages.values()].sort((a, b) => a.seq - b.seq);
  const known = new Set(msgs.map(m => m.client_id).filter(Boolean));
  const waiting = (await db.byStaff(state.me.id).catch(() => [])).filter(o => o.thread === v.id && !known.has(o.client_id));
  const items = msgs.map(m => messageItem(m));
  for (const o of waiting.sort((a, b) => a.created - b.created)) {
    const label = o.state === 'sending' ? 'Sending…' : 'Waiting for connection';
    items.push(messageItem({ kind: v.thread?.kind === 'internal' ? 'internal' : 'customer_sms', direction: 'outbound', body: o.body || o.text || '', client_id: o.client_id, status: 'waiting' }, label));
  }
  for (const f of v.failed) items.push(messageItem({ ...f, kind: v.thread?.kind === 'internal' ? 'internal' : 'customer_sms', direction: 'outbound', status: 'failed' }, 'Not sent: ' + f.reason));
  if (!items.length) items.push(h('li', { class: 'empty' }, 'No messages yet.'));
  list.replaceChildren(...items);
  $('#earlier').hidden = !v.before;
  if (v.thread?.kind === 'customer' && msgs.length) renderSuggestions(v);
}

async function loadJobs(v) {
  let jobs = [];
  try { jobs = (await call('GET', `/v1/threads/${encodeURIComponent(v.id)}/jobs`)).jobs; } catch { return; }
  if (state.view !== v) return;
  $('#jobs').replaceChildren(...jobs.map(j => h('div', { class: 'job' },
    h('strong', {}, `${j.id} · ${j.title}`),
    h('span', { class: 'block' }, [j.status && cap(j.status), j.window_start && `${time(j.window_start)}–${clock(j.window_end)}`,
      j.eta && `ETA ${time(j.eta)}`].filter(Boolean).join(' · ')),
    j.address ? h('span', { class: 'block muted' }, j.address + (j.customer?.name ? ' · ' + j.customer.name : '')) : null)));
}

const cap = s => s.charAt(0).toUpperCase() + s.slice(1);

// ---- suggestions ----

async function loadSuggestions(v) {
  if (v.thread?.kind !== 'customer') return;
  try {
    v.suggestions = (await call('GET', `/v1/threads/${encodeURIComponent(v.id)}/suggestions`)).suggestions;
  } catch { v.suggestions = []; }
  renderSuggestions(v);
}

function renderSuggestions(v) {
  const box = $('#suggestions');
  if (!box || state.view !== v) return;
  // Chips answer the customer's last message; once someone answered it they are stale.
  const last = [...v.messages.values()].sort((a, b) => b.seq - a.seq)[0];
  const show = last && last.direction === 'inbound' ? v.suggestions.filter(s => s.for_message === last.id) : [];
  box.replaceChildren(...show.slice(0, 3).map(s => {
    let timer;
    return h('div', { class: 'chip' + (s.urgent ? ' urgent' : ''), 'data-suggestion': s.id },
      h('button', {
        class: 'use', title: 'Send this reply', onclick: e => { if (!e.currentTarget.dataset.held) useSuggestion(v, s); delete e.currentTarget.dataset.held; },
        onpointerdown: e => { const b = e.currentTarget; timer = setTimeout(() => { b.dataset.held = '1'; editSuggestion(v, s); }, 550); },
        onpointerup: () => clearTimeout(timer), onpointerleave: () => clearTimeout(timer),
      }, s.text),
      h('button', { class: 'edit icon', 'aria-label': 'Edit before sending: ' + s.text, onclick: () => editSuggestion(v, s) }, '✎'),
      h('button', { class: 'dismiss icon', 'aria-label': 'Dismiss suggestion: ' + s.text, onclick: () => dismissSuggestion(v, s) }, '×'));
  }));
}

function dropSuggestions(v) {
  v.suggestions = [];
  renderSuggestions(v);
}

function useSuggestion(v, s) {
  dropSuggestions(v);
  enqueue(v, { thread: v.id, suggestion: s.id, body: '', text: s.text, client_id: newClientId() });
}

function editSuggestion(v, s) {
  const ta = $('#compose');
  ta.value = s.text;
  v.draft.suggestion = s.id;
  composerChanged(v);
  ta.focus();
}

async function dismissSuggestion(v, s) {
  v.suggestions = v.suggestions.filter(x => x.id !== s.id);
  renderSuggestions(v);
  try { await call('POST', `/v1/suggestions/${encodeURIComponent(s.id)}/dismiss`); } catch (e) { showError(e); }
}

// ---- composer, drafts ----

function draftKey(v) { return `${state.me.id}|${v.id}`; }

async function loadDraft(v) {
  const local = await db.get('drafts', draftKey(v)).catch(() => null);
  let remote = null;
  try { remote = (await call('GET', '/v1/drafts')).drafts.find(d => d.thread === v.id) ?? null; } catch { /* offline: local only */ }
  if (state.view !== v) return;
  // The newer of the two wins: the server's when another device saved after this one.
  let d = local;
  if (remote && (!local || !local.id || local.id !== remote.id || remote.version > local.version || (!local.dirty && remote.version >= local.version))) {
    d = { id: remote.id, version: remote.version, client_id: remote.client_id, body: remote.body, suggestion: null };
  }
  if (local?.dirty && remote && local.id === remote.id && local.version === remote.version) d = local;
  if (!d) return;
  v.draft = { id: d.id ?? '', version: d.version ?? 0, client_id: d.client_id || newClientId(), suggestion: d.suggestion ?? null };
  const ta = $('#compose');
  if (!ta.value) ta.value = d.body ?? '';
  composerChanged(v, { save: !!d.dirty });
}

let segTimer;
function composerChanged(v, { save = true } = {}) {
  const ta = $('#compose');
  ta.style.height = 'auto';
  ta.style.height = Math.min(ta.scrollHeight, 160) + 'px';
  $('#send').disabled = ta.value.trim() === '';
  clearTimeout(segTimer);
  segTimer = setTimeout(() => segments(v, ta.value), 150);
  if (!save) return;
  db.put('drafts', { ...v.draft, body: ta.value, dirty: true }, draftKey(v)).catch(() => {});
  clearTimeout(v.saveTimer);
  v.saveTimer = setTimeout(() => syncDraft(v), 600);
}

async function segments(v, body) {
  const out = $('#segments');
  if (!out || v.thread?.kind === 'internal') { if (out) out.textContent = ''; return; }
  if (!body) { out.textContent = ''; return; }
  try {
    const s = await call('POST', '/v1/segments', { body });
    if ($('#compose')?.value !== body) return;
    out.textContent = `${s.characters} characters · ${s.segments} SMS ${s.segments === 1 ? 'part' : 'parts'} · ${s.encoding}`;
  } catch (e) {
    out.textContent = e.offline ? '' : e.message;
  }
}

async function syncDraft(v) {
  if (v.syncing) { v.resync = true; return; }
  v.syncing = true;
  const body = $('#compose')?.value ?? '';
  const d = v.draft;
  try {
    if (!body.trim()) {
      if (d.id) await call('DELETE', '/v1/drafts/' + encodeURIComponent(d.id)).catch(e => { if (e.status !== 404) throw e; });
      v.draft = { id: '', version: 0, client_id: d.client_id, suggestion: d.suggestion };
      await db.del('drafts', draftKey(v));
    } else {
      const payload = { thread: v.id, body, client_id: d.client_id };
      const saved = d.id
        ? await call('PUT', '/v1/drafts/' + encodeURIComponent(d.id), { ...payload, version: d.version })
        : await call('POST', '/v1/drafts', payload);
      if (state.view === v && v.draft.client_id === d.client_id) {
        v.draft = { ...v.draft, id: saved.id, version: saved.version };
        const now = $('#compose')?.value ?? '';
        await db.put('drafts', { ...v.draft, body: now, dirty: now !== body }, draftKey(v));
      } else if (!d.id && sentDrafts.has(d.client_id)) {
        // Sent while this first save was on its way: the send did not know
        // the draft's id, so the draft goes here.
        await call('DELETE', '/v1/drafts/' + encodeURIComponent(saved.id)).catch(() => {});
      }
    }
    $('#conflict').hidden = true;
  } catch (e) {
    if (e.status === 409) await showConflict(v);
    else if (e.status === 404 && d.id) { v.draft.id = ''; v.draft.version = 0; v.resync = true; }
    else if (!e.offline) showError(e);
  } finally {
    v.syncing = false;
  }
  if (v.resync && state.view === v) { v.resync = false; syncDraft(v); }
}

// showConflict says that another device changed the draft since this one
// read it. The text typed here stays in the composer: nothing is lost, and
// the person chooses which version to keep.
async function showConflict(v) {
  let theirs;
  try { theirs = await call('GET', '/v1/drafts/' + encodeURIComponent(v.draft.id)); } catch { return; }
  const box = $('#conflict');
  box.replaceChildren(
    h('p', {}, h('strong', {}, 'Not saved: '), 'this draft was changed on another device. It now says:'),
    h('blockquote', {}, theirs.body),
    h('div', { class: 'actions' },
      h('button', { onclick: () => {
        v.draft.version = theirs.version;
        box.hidden = true;
        syncDraft(v);
      } }, 'Keep mine'),
      h('button', { onclick: () => {
        v.draft = { ...v.draft, version: theirs.version, client_id: theirs.client_id };
        $('#compose').value = theirs.body;
        box.hidden = true;
        composerChanged(v, { save: false });
        db.put('drafts', { ...v.draft, body: theirs.body, dirty: false }, draftKey(v)).catch(() => {});
      } }, 'Use the other version')));
  box.hidden = false;
}

// sendComposer takes the text out of the composer at once, so a second tap
// finds it empty; the message goes into the outbox under the draft's client
// id, which the server also uses to make a retried send one message.
const sentDrafts = new Set(); // client ids of drafts sent from this tab

function sendComposer(v) {
  const ta = $('#compose');
  const body = ta.value.trim();
  if (!body) return;
  clearTimeout(v.saveTimer);
  const d = v.draft;
  sentDrafts.add(d.client_id);
  ta.value = '';
  v.draft = { id: '', version: 0, client_id: newClientId(), suggestion: null };
  composerChanged(v, { save: false });
  db.del('drafts', draftKey(v)).catch(() => {});
  $('#conflict').hidden = true;
  if (d.suggestion) dropSuggestions(v);
  enqueue(v, { thread: v.id, body, client_id: d.client_id, draft: d.id || undefined, suggestion: d.suggestion || undefined });
}

// ---- outbox ----

async function enqueue(v, item) {
  item = { ...item, staff: state.me.id, created: Date.now(), state: 'waiting' };
  await db.add('outbox', item);
  if (v) await renderMessages(v);
  flush();
}

let flushing = null, flushAgain = false;
// flush sends what waits in the outbox, oldest first: one flush at a time
// across this browser's tabs (Web Locks), and each message under its client
// id, so a message sent twice (two tabs, a lost answer) is still one.
function flush() {
  if (!state.me) return Promise.resolve();
  if (flushing) { flushAgain = true; return flushing; }
  const me = state.me.id;
  const run = async () => {
    for (const item of (await db.byStaff(me)).sort((a, b) => a.created - b.created)) {
      const path = item.suggestion
        ? `/v1/suggestions/${encodeURIComponent(item.suggestion)}/use`
        : `/v1/threads/${encodeURIComponent(item.thread)}/messages`;
      const body = item.suggestion
        ? { body: item.body === item.text ? '' : item.body, client_id: item.client_id }
        : { body: item.body, client_id: item.client_id, draft: item.draft, source: 'mobile' };
      try {
        const m = await call('POST', path, body);
        await db.del('outbox', item.client_id);
        const v = state.view;
        if (v?.id === m.thread) { v.messages.set(m.id, m); await renderMessages(v); main.scrollTop = main.scrollHeight; }
      } catch (e) {
        if (e.offline || e.status >= 500) break; // the server was not reached or not able: wait and retry
        await db.del('outbox', item.client_id);
        const reason = e.code === 'opted_out'
          ? 'the customer has opted out of texts (they replied STOP). Nothing can be sent until they text START.'
          : e.message;
        const v = state.view;
        if (v?.id === item.thread) { v.failed.push({ ...item, body: item.body || item.text, reason }); await renderMessages(v); main.scrollTop = main.scrollHeight; }
        toast('Not sent: ' + reason);
      }
    }
  };
  const locked = navigator.locks ? () => navigator.locks.request('fieldtalk-outbox', run) : run;
  flushing = (async () => {
    try { do { flushAgain = false; await locked(); } while (flushAgain); }
    catch (e) { showError(e); }
    finally { flushing = null; }
  })();
  return flushing;
}

// ---- new team thread ----

function viewNew() {
  setView('New team thread', true);
  footer.replaceChildren();
  const others = state.people.filter(p => p.id !== state.me.id);
  main.replaceChildren(h('form', { id: 'new-thread', class: 'form', onsubmit: e => { e.preventDefault(); startThread(e.target); } },
    h('fieldset', {}, h('legend', {}, 'With'),
      others.map(p => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'participant', value: p.id }), ` ${p.name}`, h('span', { class: 'muted' }, ` (${p.role})`)))),
    h('label', { for: 'subject' }, 'Subject (optional)'),
    h('input', { id: 'subject', name: 'subject', maxlength: '200' }),
    h('label', { for: 'job' }, 'About a job (optional)'),
    h('select', { id: 'job', name: 'job' }, h('option', { value: '' }, 'No job'), state.jobs.map(j => h('option', { value: j.id }, `${j.id} · ${j.title}`))),
    h('label', { for: 'first' }, 'Message'),
    h('textarea', { id: 'first', name: 'first', rows: '3', required: true }),
    h('p', { id: 'new-error', class: 'notice', role: 'alert', hidden: true }),
    h('button', { class: 'primary', type: 'submit' }, 'Start thread')));
}

async function startThread(form) {
  const f = new FormData(form);
  const participants = f.getAll('participant');
  const err = $('#new-error');
  if (!participants.length) { err.textContent = 'Choose at least one person.'; err.hidden = false; return; }
  try {
    const t = await call('POST', '/v1/threads', { participants, subject: f.get('subject') || undefined, job: f.get('job') || undefined });
    await enqueue(null, { thread: t.id, body: String(f.get('first')).trim(), client_id: newClientId() });
    location.hash = '#/t/' + encodeURIComponent(t.id);
    refreshInboxSoon();
  } catch (e) {
    err.textContent = e.offline ? 'Starting a thread needs a connection.' : e.message;
    err.hidden = false;
  }
}

// ---- live events ----

function onEvent(type, d) {
  if (typeof d.badge === 'number' && type !== 'ready' && type !== 'resync') setBadge(d.badge);
  const v = state.view;
  switch (type) {
    case 'message':
    case 'status':
      refreshInboxSoon();
      if (v?.id === d.thread) {
        loadHistory(v, false);
        if (type === 'message' && d.message?.direction === 'inbound') loadSuggestions(v);
      }
      break;
    case 'read':
    case 'badge':
      refreshInboxSoon();
      break;
    case 'resync':
      call('GET', '/v1/badge').then(b => setBadge(b.badge)).catch(() => {});
      refreshInboxSoon();
      if (v) loadHistory(v, false);
      break;
    case 'ready':
      // (Re)connected: what was missed has been replayed before this; what
      // was sent while away goes now.
      $('#net').dataset.replayed = String(d.replayed ?? 0);
      flush();
      break;
  }
}

// ---- routing and start ----

function setView(name, withBack, sub) {
  title.textContent = name;
  $('#subtitle').textContent = sub ?? '';
  back.hidden = !withBack;
  main.scrollTop = 0;
}

function showError(e) {
  if (e instanceof ApiError && e.status === 401) return signOut();
  if (e instanceof ApiError && e.offline) return;
  console.error(e);
  toast(e.message || String(e));
}

function route() {
  if (state.view && !location.hash.startsWith('#/t/')) state.view = null;
  if (!state.me) return viewSignIn();
  const hash = location.hash || '#/';
  if (hash.startsWith('#/t/')) return viewThread(decodeURIComponent(hash.slice(4)));
  if (hash === '#/new') return viewNew();
  if (hash === '#/signin') { signOut(); return viewSignIn(); }
  state.view = null;
  return viewInbox();
}

function start() {
  const s = session.get();
  if (!s) return false;
  state.me = s.me;
  state.people = s.people ?? [];
  state.jobs = s.jobs ?? [];
  setNet('connecting');
  state.stream?.stop();
  state.stream = connect({
    token: s.token,
    onEvent,
    onState: st => { if (st === 'unauthorized') signOut(); else setNet(st); },
  });
  call('GET', '/v1/badge').then(b => setBadge(b.badge)).catch(showError);
  flush();
  return true;
}

addEventListener('hashchange', route);
// Offline, the stream's connection is as good as dead (a phone that lost
// its signal gets no error for minutes): drop it, and resume from the last
// event id once back online, when the replay brings what was missed.
addEventListener('online', () => {
  state.stream?.reconnect();
  flush();
  // A draft typed offline was kept locally only: it syncs now.
  const v = state.view;
  if (v) db.get('drafts', draftKey(v)).then(d => { if (d?.dirty && state.view === v) syncDraft(v); }).catch(() => {});
});
addEventListener('offline', () => { state.stream?.reconnect(); setNet('offline'); });
document.addEventListener('visibilitychange', () => {
  const v = state.view;
  if (v && document.visibilityState === 'visible') markRead(v, Math.max(0, ...[...v.messages.values()].map(m => m.seq)));
});
// A fallback for browsers that miss the online event: retry the outbox now and then.
setInterval(() => { if (state.me && navigator.onLine) flush(); }, 5000);
back.addEventListener('click', () => { location.hash = '#/'; });
pullToRefresh();

if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => {});
start();
route();
