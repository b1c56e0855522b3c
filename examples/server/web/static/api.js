// The JSON API, as the signed-in person of this tab. Every failure is an
// ApiError: status 0 when the server could not be reached.
const KEY = 'fieldtalk.session';

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
  get offline() { return this.status === 0; }
}

// The session lives in sessionStorage: one person per tab, kept across reloads.
export const session = {
  get() { try { return JSON.parse(sessionStorage.getItem(KEY)); } catch { return null; } },
  set(s) { sessionStorage.setItem(KEY, JSON.stringify(s)); },
  clear() { sessionStorage.removeItem(KEY); },
};

export async function call(method, path, body, { token = session.get()?.token, headers = {} } = {}) {
  const init = { method, headers: { ...headers } };
  if (token) init.headers.Authorization = 'Bearer ' + token;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'offline', 'No connection to the server');
  }
  if (resp.status === 204) return null;
  let data = null;
  try { data = await resp.json(); } catch { /* an answer without JSON: a proxy's error page */ }
  if (!resp.ok) {
    const e = data?.error ?? {};
    throw new ApiError(resp.status, e.code ?? 'http_' + resp.status, e.message ?? resp.statusText, e.field);
  }
  return data;
}

export const newClientId = () => crypto.randomUUID();
