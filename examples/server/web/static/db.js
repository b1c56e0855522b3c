// IndexedDB, kept small: one database with three stores.
//   outbox  messages accepted by the app but not yet by the server, keyed by client_id
//   drafts  the composer's text per person and thread ("staff|thread")
//   cache   the last inbox and thread pages, to show something offline ("staff|key")
const NAME = 'fieldtalk', VERSION = 1;
let opening;

function open() {
  opening ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(NAME, VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      db.createObjectStore('outbox', { keyPath: 'client_id' }).createIndex('staff', 'staff');
      db.createObjectStore('drafts');
      db.createObjectStore('cache');
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  return opening;
}

function done(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function store(name, mode = 'readonly') {
  return (await open()).transaction(name, mode).objectStore(name);
}

export const get = async (name, key) => done((await store(name)).get(key));
export const put = async (name, value, key) => done((await store(name, 'readwrite')).put(value, key));
export const del = async (name, key) => done((await store(name, 'readwrite')).delete(key));

// add stores value only when its key is new, and says whether it did: the
// outbox uses it so that a message queued twice is queued once.
export async function add(name, value) {
  try {
    await done((await store(name, 'readwrite')).add(value));
    return true;
  } catch (e) {
    if (e && e.name === 'ConstraintError') return false;
    throw e;
  }
}

export async function byStaff(staff) {
  return done((await store('outbox')).index('staff').getAll(staff));
}
