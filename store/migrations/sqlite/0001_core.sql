-- fieldtalk core schema (SQLite). The same tables as the PostgreSQL schema;
-- timestamps are TEXT in bun's UTC format (2006-01-02 15:04:05.999999+00:00),
-- which sorts lexically in time order, so the inbox keyset compares them as text.
--
-- Every table carries tenant_id and every index leads with it, so a
-- tenant-sharded PostgreSQL (Citus) can distribute the data, and no query can
-- reach another tenant's rows without naming its id. The one exception is the
-- routing lookup of a provisioned number (business_numbers_number): an inbound
-- message names only the number, and the tenant is what the lookup finds.
--
-- SQLite compares TEXT byte-wise (BINARY), as the inbox's tie-break on id needs.

CREATE TABLE staff (
  tenant_id  TEXT NOT NULL,
  id         TEXT NOT NULL,
  name       TEXT NOT NULL DEFAULT '',
  role       TEXT NOT NULL CHECK (role IN ('technician', 'dispatcher', 'admin')),
  created_at TIMESTAMP NOT NULL,
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE business_numbers (
  tenant_id         TEXT NOT NULL,
  number            TEXT NOT NULL,
  channel           TEXT NOT NULL,
  messaging_service TEXT NOT NULL DEFAULT '',
  is_default        BOOLEAN NOT NULL DEFAULT false,
  created_at        TIMESTAMP NOT NULL,
  PRIMARY KEY (tenant_id, number)
);
-- Inbound routing: global by nature (the number is all an inbound message
-- names), and it is what keeps a number provisioned to one business only.
CREATE UNIQUE INDEX business_numbers_number ON business_numbers (number);
CREATE UNIQUE INDEX business_numbers_default ON business_numbers (tenant_id, channel) WHERE is_default;

CREATE TABLE threads (
  tenant_id       TEXT NOT NULL,
  id              TEXT NOT NULL,
  kind            TEXT NOT NULL CHECK (kind IN ('customer', 'internal')),
  business_number TEXT NOT NULL DEFAULT '',
  -- contact_address is the customer key: contact_phone, or contact_email
  -- when there is no phone; '' on internal threads.
  contact_address TEXT NOT NULL DEFAULT '',
  contact_phone   TEXT NOT NULL DEFAULT '',
  contact_email   TEXT NOT NULL DEFAULT '',
  contact_name    TEXT NOT NULL DEFAULT '',
  contact_ref     TEXT NOT NULL DEFAULT '',
  subject         TEXT NOT NULL DEFAULT '',
  created_at      TIMESTAMP NOT NULL,
  created_by      TEXT NOT NULL DEFAULT '',
  last_message_at TIMESTAMP NOT NULL,
  last_seq        INTEGER NOT NULL DEFAULT 0,
  preview         TEXT NOT NULL DEFAULT '',
  archived        BOOLEAN NOT NULL DEFAULT false,
  PRIMARY KEY (tenant_id, id)
);
-- The inbox, walked backwards (SQLite has no INCLUDE; the partial index still
-- skips archived threads).
CREATE INDEX threads_inbox ON threads (tenant_id, last_message_at, id) WHERE NOT archived;
-- One customer thread per business number and customer address.
CREATE UNIQUE INDEX threads_customer ON threads (tenant_id, business_number, contact_address) WHERE kind = 'customer';

CREATE TABLE thread_participants (
  tenant_id TEXT NOT NULL,
  thread_id TEXT NOT NULL,
  staff_id  TEXT NOT NULL,
  PRIMARY KEY (tenant_id, thread_id, staff_id),
  FOREIGN KEY (tenant_id, thread_id) REFERENCES threads (tenant_id, id)
) WITHOUT ROWID;

CREATE TABLE thread_jobs (
  tenant_id TEXT NOT NULL,
  thread_id TEXT NOT NULL,
  job_id    TEXT NOT NULL,
  PRIMARY KEY (tenant_id, thread_id, job_id),
  FOREIGN KEY (tenant_id, thread_id) REFERENCES threads (tenant_id, id)
) WITHOUT ROWID;
-- From a job to its threads, when its assignees change.
CREATE INDEX thread_jobs_job ON thread_jobs (tenant_id, job_id, thread_id);

-- Job assignments as the host's CRM pushes them in; the job need not be in
-- the jobs table (that one is optional, for hosts that let fieldtalk keep it).
CREATE TABLE job_assignments (
  tenant_id TEXT NOT NULL,
  job_id    TEXT NOT NULL,
  staff_id  TEXT NOT NULL,
  PRIMARY KEY (tenant_id, job_id, staff_id)
) WITHOUT ROWID;

-- What each staff member may see beyond "all customer"/"all internal",
-- precomputed: participant says they take part in the thread, job_refs counts
-- the (linked job, assignment) pairs that tie them to it. Which rows exist
-- changes in the same transaction as every participant, job link and
-- assignment change; a row with participant false and job_refs 0 is
-- deleted. (Since 0005 the rows also carry copies of their thread's sort key
-- and state, which every message moves: see 0005_visibility_inbox.sql.)
CREATE TABLE staff_thread_visibility (
  tenant_id   TEXT NOT NULL,
  staff_id    TEXT NOT NULL,
  thread_id   TEXT NOT NULL,
  participant BOOLEAN NOT NULL DEFAULT false,
  job_refs    INTEGER NOT NULL DEFAULT 0 CHECK (job_refs >= 0),
  PRIMARY KEY (tenant_id, staff_id, thread_id),
  FOREIGN KEY (tenant_id, thread_id) REFERENCES threads (tenant_id, id)
) WITHOUT ROWID;

CREATE TABLE jobs (
  tenant_id      TEXT NOT NULL,
  id             TEXT NOT NULL,
  title          TEXT NOT NULL DEFAULT '',
  status         TEXT NOT NULL DEFAULT '',
  window_start   TIMESTAMP,
  window_end     TIMESTAMP,
  eta            TIMESTAMP,
  address        TEXT NOT NULL DEFAULT '',
  technician     TEXT NOT NULL DEFAULT '',
  business       TEXT NOT NULL DEFAULT '',
  customer_phone TEXT NOT NULL DEFAULT '',
  customer_email TEXT NOT NULL DEFAULT '',
  customer_name  TEXT NOT NULL DEFAULT '',
  customer_ref   TEXT NOT NULL DEFAULT '',
  notes          TEXT NOT NULL DEFAULT '',
  time_zone      TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE messages (
  tenant_id    TEXT NOT NULL,
  thread_id    TEXT NOT NULL,
  seq          INTEGER NOT NULL,
  id           TEXT NOT NULL,
  kind         TEXT NOT NULL,
  direction    TEXT NOT NULL,
  channel      TEXT NOT NULL,
  author_type  TEXT NOT NULL,
  author_id    TEXT NOT NULL DEFAULT '',
  body         TEXT NOT NULL DEFAULT '',
  subject      TEXT NOT NULL DEFAULT '',
  media        TEXT NOT NULL DEFAULT '[]', -- JSON array of conversations.Media
  job_id       TEXT NOT NULL DEFAULT '',
  source       TEXT NOT NULL DEFAULT '',
  client_id    TEXT NOT NULL DEFAULT '',
  from_address TEXT NOT NULL DEFAULT '',
  to_address   TEXT NOT NULL DEFAULT '',
  created_at   TIMESTAMP NOT NULL,
  status       TEXT NOT NULL,
  sent_at      TIMESTAMP,
  delivered_at TIMESTAMP,
  failed_at    TIMESTAMP,
  provider_id  TEXT NOT NULL DEFAULT '',
  error_code   TEXT NOT NULL DEFAULT '',
  error_reason TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id, thread_id, seq),
  FOREIGN KEY (tenant_id, thread_id) REFERENCES threads (tenant_id, id)
);
CREATE UNIQUE INDEX messages_id ON messages (tenant_id, id);
-- Idempotency: a repeated webhook or a repeated send is the same message.
CREATE UNIQUE INDEX messages_provider ON messages (tenant_id, channel, provider_id) WHERE provider_id <> '';
CREATE UNIQUE INDEX messages_client ON messages (tenant_id, author_id, client_id) WHERE client_id <> '';

CREATE TABLE read_marks (
  tenant_id TEXT NOT NULL,
  staff_id  TEXT NOT NULL,
  thread_id TEXT NOT NULL,
  read_seq  INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, staff_id, thread_id),
  FOREIGN KEY (tenant_id, thread_id) REFERENCES threads (tenant_id, id)
) WITHOUT ROWID;
-- Archiving a thread adjusts the read counters of everyone who read it.
CREATE INDEX read_marks_thread ON read_marks (tenant_id, thread_id, staff_id);

-- The dispatcher badge in O(1): unread over customer threads is
-- customer_seq_sum - customer_read_sum. Both are kept in the transaction that
-- changes them (AppendMessage, MarkRead, SetArchived).
CREATE TABLE tenant_counters (
  tenant_id        TEXT NOT NULL PRIMARY KEY,
  customer_seq_sum INTEGER NOT NULL DEFAULT 0 -- sum(last_seq), non-archived customer threads
) WITHOUT ROWID;
CREATE TABLE staff_read_counters (
  tenant_id         TEXT NOT NULL,
  staff_id          TEXT NOT NULL,
  customer_read_sum INTEGER NOT NULL DEFAULT 0, -- sum(read_seq) of the staff member, same threads
  PRIMARY KEY (tenant_id, staff_id)
) WITHOUT ROWID;

CREATE TABLE drafts (
  tenant_id  TEXT NOT NULL,
  id         TEXT NOT NULL,
  author_id  TEXT NOT NULL,
  thread_id  TEXT NOT NULL DEFAULT '',
  to_address TEXT NOT NULL DEFAULT '',
  job_id     TEXT NOT NULL DEFAULT '',
  body       TEXT NOT NULL DEFAULT '',
  media      TEXT NOT NULL DEFAULT '[]',
  client_id  TEXT NOT NULL DEFAULT '',
  version    INTEGER NOT NULL,
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX drafts_author ON drafts (tenant_id, author_id, updated_at);
CREATE UNIQUE INDEX drafts_client ON drafts (tenant_id, author_id, client_id) WHERE client_id <> '';

-- The opt-out ledger is append-only (what a customer sent and when);
-- opt_outs is the current state it leads to, read before every SMS.
CREATE TABLE opt_out_events (
  tenant_id       TEXT NOT NULL,
  id              TEXT NOT NULL,
  address         TEXT NOT NULL,
  business_number TEXT NOT NULL DEFAULT '',
  keyword         TEXT NOT NULL DEFAULT '',
  opted_out       BOOLEAN NOT NULL,
  at              TIMESTAMP NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX opt_out_events_address ON opt_out_events (tenant_id, address, id);

CREATE TABLE opt_outs (
  tenant_id       TEXT NOT NULL,
  address         TEXT NOT NULL,
  business_number TEXT NOT NULL DEFAULT '',
  keyword         TEXT NOT NULL DEFAULT '',
  opted_out       BOOLEAN NOT NULL,
  at              TIMESTAMP NOT NULL,
  PRIMARY KEY (tenant_id, address)
) WITHOUT ROWID;
