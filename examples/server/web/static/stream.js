// The event stream, read with fetch because EventSource cannot send the
// Authorization header. It resumes with Last-Event-ID after a drop, waiting
// the retry delay the server set, so nothing is missed; a resync event
// means too much was missed and the app reloads what it shows.
export function connect({ token, lastId = '', onEvent, onState }) {
  let stopped = false, retry = 3000, ctrl, wake;

  async function run() {
    while (!stopped) {
      ctrl = new AbortController();
      try {
        const headers = { Authorization: 'Bearer ' + token, Accept: 'text/event-stream' };
        if (lastId) headers['Last-Event-ID'] = lastId;
        const resp = await fetch('/v1/stream', { headers, signal: ctrl.signal, cache: 'no-store' });
        if (resp.status === 401) { onState('unauthorized'); return; }
        if (!resp.ok || !resp.body) throw new Error('stream: ' + resp.status);
        await read(resp.body);
      } catch { /* dropped: retry below */ }
      if (stopped) return;
      onState('offline');
      await new Promise(r => { wake = r; setTimeout(r, retry); });
    }
  }

  async function read(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '', ev = { id: '', event: 'message', data: '' };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        if (line === '') {
          if (ev.data !== '') dispatch(ev);
          ev = { id: '', event: 'message', data: '' };
          continue;
        }
        if (line.startsWith(':')) continue;
        const i = line.indexOf(':');
        const field = i < 0 ? line : line.slice(0, i);
        const val = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
        if (field === 'id') ev.id = val;
        else if (field === 'event') ev.event = val;
        else if (field === 'data') ev.data += (ev.data ? '\n' : '') + val;
        else if (field === 'retry' && /^\d+$/.test(val)) retry = +val;
      }
    }
  }

  function dispatch(ev) {
    if (ev.id) lastId = ev.id;
    let data;
    try { data = JSON.parse(ev.data); } catch { return; }
    if (ev.event === 'ready') onState('live');
    try { onEvent(ev.event, data, lastId); } catch (e) { console.error(e); }
  }

  run();
  return {
    stop() { stopped = true; ctrl?.abort(); },
    // reconnect drops the connection now (the browser is back online) and resumes.
    reconnect() { ctrl?.abort(); wake?.(); },
  };
}
