-- Escalations keep the receptionist's transcript with the message, and
-- urgent ones are marked.
ALTER TABLE messages ADD COLUMN details TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN urgent BOOLEAN NOT NULL DEFAULT false;

-- Per-business settings: the display name and the quiet hours automated
-- messages wait out.
CREATE TABLE business_settings (
  tenant_id   TEXT NOT NULL PRIMARY KEY,
  name        TEXT NOT NULL DEFAULT '',
  quiet_start TEXT NOT NULL DEFAULT '',
  quiet_end   TEXT NOT NULL DEFAULT '',
  time_zone   TEXT NOT NULL DEFAULT '',
  updated_at  TIMESTAMP NOT NULL
);

-- The table-backed contact activity timeline: one entry per message, keyed
-- by the message so that recording twice keeps one.
CREATE TABLE timeline_entries (
  tenant_id     TEXT NOT NULL,
  message_id    TEXT NOT NULL,
  thread_id     TEXT NOT NULL,
  contact_ref   TEXT NOT NULL DEFAULT '',
  contact_phone TEXT NOT NULL DEFAULT '',
  contact_email TEXT NOT NULL DEFAULT '',
  contact_name  TEXT NOT NULL DEFAULT '',
  kind          TEXT NOT NULL,
  direction     TEXT NOT NULL,
  channel       TEXT NOT NULL,
  source        TEXT NOT NULL,
  author_id     TEXT NOT NULL DEFAULT '',
  body          TEXT NOT NULL,
  at            TIMESTAMP NOT NULL,
  PRIMARY KEY (tenant_id, message_id)
);
CREATE INDEX timeline_ref ON timeline_entries (tenant_id, contact_ref, at, message_id) WHERE contact_ref <> '';
CREATE INDEX timeline_phone ON timeline_entries (tenant_id, contact_phone, at, message_id) WHERE contact_phone <> '';
CREATE INDEX timeline_email ON timeline_entries (tenant_id, contact_email, at, message_id) WHERE contact_email <> '';
