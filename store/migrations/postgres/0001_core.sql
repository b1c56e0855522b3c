-- fieldtalk core schema (PostgreSQL).
--
-- Every table carries tenant_id and every index leads with it, so a
-- tenant-sharded PostgreSQL (Citus) can distribute the data, and no query can
-- reach another tenant's rows without naming its id. The one exception is the
-- routing lookup of a provisioned number (business_numbers_number): an inbound
-- message names only the number, and the tenant is what the lookup finds.
--
-- Ids are compared byte-wise (COLLATE "C"): the inbox breaks ties on id, and
-- its order must not depend on the server's locale.

CREATE TABLE staff (
  tenant_id  text COLLATE "C" NOT NULL,
  id         text COLLATE "C" NOT NULL,
  name       text NOT NULL DEFAULT '',
  role       text NOT NULL CHECK (role IN ('technician', 'dispatcher', 'admin')),
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE business_numbers (
  tenant_id         text COLLATE "C" NOT NULL,
  number            text COLLATE "C" NOT NULL,
  channel           text NOT NULL,
  messaging_service text NOT NULL DEFAULT '',
  is_default        boolean NOT NULL DEFAULT false,
  created_at        timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, number)
);
-- Inbound routing: global by nature (the number is all an inbound message
-- names), and it is what keeps a number provisioned to one business only.
CREATE UNIQUE INDEX business_numbers_number ON business_numbers (number);
CREATE UNIQUE INDEX business_numbers_default ON business_numbers (tenant_id, channel) WHERE is_default;

CREATE TABLE threads (
  tenant_id       text COLLATE "C" NOT NULL,
  id              text COLLATE "C" NOT NULL,
  kind            text NOT NULL CHECK (kind IN ('customer', 'internal')),
  business_number text NOT NULL DEFAULT '',
  -- contact_address is the customer key: contact_phone, or contact_email
  -- when there is no phone; '' on internal threads.
  contact_address text COLLATE "C" NOT NULL DEFAULT '',
  contact_phone   text NOT NULL DEFAULT '',
  contact_email   text NOT NULL DEFAULT '',
  contact_name    text NOT NULL DEFAULT '',
  contact_ref     text NOT NULL DEFAULT '',
  subject         text NOT NULL DEFAULT '',
  created_at      timestamptz NOT NULL,
  created_by      text NOT NULL DEFAULT '',
  last_message_at timestamptz NOT NULL,
  last_seq        bigint NOT NULL DEFAULT 0,
  preview         text NOT NULL DEFAULT '',
  archived        boolean NOT NULL DEFAULT false,
  PRIMARY KEY (tenant_id, id)
) WITH (fillfactor = 85); -- every message rewrites its thread's row: leave room on the page
-- The inbox, walked backwards. kind rides along so the dispatcher's customer
-- branch filters inside an index-only scan; it never changes, so it costs no
-- extra writes (the entry is rewritten on every message anyway).
CREATE INDEX threads_inbox ON threads (tenant_id, last_message_at, id) INCLUDE (kind) WHERE NOT archived;
-- One customer thread per business number and customer address.
CREATE UNIQUE INDEX threads_customer ON threads (tenant_id, business_number, contact_address) WHERE kind = 'customer';

CREATE TABLE thread_participants (
  tenant_id text COLLATE "C" NOT NULL,
  thread_id text COLLATE "C" NOT NULL,
  staff_id  text COLLATE "C" NOT NULL,
  PRIMARY KEY (tenant_id, thread_id, staff_id),
  FOREIGN KEY (tenant_id, thread_id) REFERENCES threads (tenant_id, id)
);

CREATE TABLE thread_jobs (
  tenant_id text COLLATE "C" NOT NULL,
  thread_id text COLLATE "C" NOT NULL,
  job_id    text COLLATE "C" NOT NULL,
  PRIMARY KEY (tenant_id, thread_id, job_id),
  FOREIGN KEY (tenant_id, thread_id) REFERENCES threads (tenant_id, id)
);
-- From a job to its threads, when its assignees change.
CREATE INDEX thread_jobs_job ON thread_jobs (tenant_id, job_id, thread_id);

-- Job assignments as the host's CRM pushes them in; the job need not be in
-- the jobs table (that one is optional, for hosts that let fieldtalk keep it).
CREATE TABLE job_assignments (
  tenant_id text COLLATE "C" NOT NULL,
  job_id    text COLLATE "C" NOT NULL,
  staff_id  text COLLATE "C" NOT NULL,
  PRIMARY KEY (tenant_id, job_id, staff_id)
);

-- What each staff member may see beyond "all customer"/"all internal",
-- precomputed: participant says they take part in the thread, job_refs counts
-- the (linked job, assignment) pairs that tie them to it. Which rows exist
-- changes in the same transaction as every participant, job link and
-- assignment change; a row with participant false and job_refs 0 is
-- deleted. (Since 0005 the rows also carry copies of their thread's sort key
-- and state, which every message moves: see 0005_visibility_inbox.sql.)
CREATE TABLE staff_thread_visibility (
  tenant_id   text COLLATE "C" NOT NULL,
  staff_id    text COLLATE "C" NOT NULL,
  thread_id   text COLLATE "C" NOT NULL,
  participant boolean NOT NULL DEFAULT false,
  job_refs    integer NOT NULL DEFAULT 0 CHECK (job_refs >= 0),
  PRIMARY KEY (tenant_id, staff_id, thread_id),
  FOREIGN KEY (tenant_id, thread_id) REFERENCES threads (tenant_id, id)
);

CREATE TABLE jobs (
  tenant_id      text COLLATE "C" NOT NULL,
  id             text COLLATE "C" NOT NULL,
  title          text NOT NULL DEFAULT '',
  status         text NOT NULL DEFAULT '',
  window_start   timestamptz,
  window_end     timestamptz,
  eta            timestamptz,
  address        text NOT NULL DEFAULT '',
  technician     text NOT NULL DEFAULT '',
  business       text NOT NULL DEFAULT '',
  customer_phone text NOT NULL DEFAULT '',
  customer_email text NOT NULL DEFAULT '',
  customer_name  text NOT NULL DEFAULT '',
  customer_ref   text NOT NULL DEFAULT '',
  notes          text NOT NULL DEFAULT '',
  time_zone      text NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE messages (
  tenant_id    text COLLATE "C" NOT NULL,
  thread_id    text COLLATE "C" NOT NULL,
  seq          bigint NOT NULL,
  id           text COLLATE "C" NOT NULL,
  kind         text NOT NULL,
  direction    text NOT NULL,
  channel      text NOT NULL,
  author_type  text NOT NULL,
  author_id    text COLLATE "C" NOT NULL DEFAULT '',
  body         text NOT NULL DEFAULT '',
  subject      text NOT NULL DEFAULT '',
  media        text NOT NULL DEFAULT '[]', -- JSON array of conversations.Media
  job_id       text NOT NULL DEFAULT '',
  source       text NOT NULL DEFAULT '',
  client_id    text COLLATE "C" NOT NULL DEFAULT '',
  from_address text NOT NULL DEFAULT '',
  to_address   text NOT NULL DEFAULT '',
  created_at   timestamptz NOT NULL,
  status       text NOT NULL,
  sent_at      timestamptz,
  delivered_at timestamptz,
  failed_at    timestamptz,
  provider_id  text COLLATE "C" NOT NULL DEFAULT '',
  error_code   text NOT NULL DEFAULT '',
  error_reason text NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id, thread_id, seq),
  FOREIGN KEY (tenant_id, thread_id) REFERENCES threads (tenant_id, id)
);
CREATE UNIQUE INDEX messages_id ON messages (tenant_id, id);
-- Idempotency: a repeated webhook or a repeated send is the same message.
CREATE UNIQUE INDEX messages_provider ON messages (tenant_id, channel, provider_id) WHERE provider_id <> '';
CREATE UNIQUE INDEX messages_client ON messages (tenant_id, author_id, client_id) WHERE client_id <> '';

CREATE TABLE read_marks (
  tenant_id text COLLATE "C" NOT NULL,
  staff_id  text COLLATE "C" NOT NULL,
  thread_id text COLLATE "C" NOT NULL,
  read_seq  bigint NOT NULL,
  PRIMARY KEY (tenant_id, staff_id, thread_id),
  FOREIGN KEY (tenant_id, thread_id) REFERENCES threads (tenant_id, id)
) WITH (fillfactor = 80); -- read_seq is not indexed: marking read is a HOT update
-- Archiving a thread adjusts the read counters of everyone who read it.
CREATE INDEX read_marks_thread ON read_marks (tenant_id, thread_id, staff_id);

-- The dispatcher badge in O(1): unread over customer threads is
-- customer_seq_sum - customer_read_sum. Both are kept in the transaction that
-- changes them (AppendMessage, MarkRead, SetArchived).
CREATE TABLE tenant_counters (
  tenant_id        text COLLATE "C" NOT NULL PRIMARY KEY,
  customer_seq_sum bigint NOT NULL DEFAULT 0 -- sum(last_seq), non-archived customer threads
);
CREATE TABLE staff_read_counters (
  tenant_id         text COLLATE "C" NOT NULL,
  staff_id          text COLLATE "C" NOT NULL,
  customer_read_sum bigint NOT NULL DEFAULT 0, -- sum(read_seq) of the staff member, same threads
  PRIMARY KEY (tenant_id, staff_id)
);

CREATE TABLE drafts (
  tenant_id  text COLLATE "C" NOT NULL,
  id         text COLLATE "C" NOT NULL,
  author_id  text COLLATE "C" NOT NULL,
  thread_id  text NOT NULL DEFAULT '',
  to_address text NOT NULL DEFAULT '',
  job_id     text NOT NULL DEFAULT '',
  body       text NOT NULL DEFAULT '',
  media      text NOT NULL DEFAULT '[]',
  client_id  text COLLATE "C" NOT NULL DEFAULT '',
  version    bigint NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX drafts_author ON drafts (tenant_id, author_id, updated_at);
CREATE UNIQUE INDEX drafts_client ON drafts (tenant_id, author_id, client_id) WHERE client_id <> '';

-- The opt-out ledger is append-only (what a customer sent and when);
-- opt_outs is the current state it leads to, read before every SMS.
CREATE TABLE opt_out_events (
  tenant_id       text COLLATE "C" NOT NULL,
  id              text COLLATE "C" NOT NULL,
  address         text COLLATE "C" NOT NULL,
  business_number text NOT NULL DEFAULT '',
  keyword         text NOT NULL DEFAULT '',
  opted_out       boolean NOT NULL,
  at              timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX opt_out_events_address ON opt_out_events (tenant_id, address, id);

CREATE TABLE opt_outs (
  tenant_id       text COLLATE "C" NOT NULL,
  address         text COLLATE "C" NOT NULL,
  business_number text NOT NULL DEFAULT '',
  keyword         text NOT NULL DEFAULT '',
  opted_out       boolean NOT NULL,
  at              timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, address)
);
