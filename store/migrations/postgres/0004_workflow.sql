-- Escalations keep the receptionist's transcript with the message, and
-- urgent ones are marked.
ALTER TABLE messages ADD COLUMN details text NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN urgent boolean NOT NULL DEFAULT false;

-- Per-business settings: the display name and the quiet hours automated
-- messages wait out.
CREATE TABLE business_settings (
  tenant_id   text COLLATE "C" NOT NULL PRIMARY KEY,
  name        text NOT NULL DEFAULT '',
  quiet_start text NOT NULL DEFAULT '',
  quiet_end   text NOT NULL DEFAULT '',
  time_zone   text NOT NULL DEFAULT '',
  updated_at  timestamptz NOT NULL
);

-- The table-backed contact activity timeline: one entry per message, keyed
-- by the message so that recording twice keeps one.
CREATE TABLE timeline_entries (
  tenant_id     text COLLATE "C" NOT NULL,
  message_id    text COLLATE "C" NOT NULL,
  thread_id     text COLLATE "C" NOT NULL,
  contact_ref   text COLLATE "C" NOT NULL DEFAULT '',
  contact_phone text COLLATE "C" NOT NULL DEFAULT '',
  contact_email text COLLATE "C" NOT NULL DEFAULT '',
  contact_name  text NOT NULL DEFAULT '',
  kind          text NOT NULL,
  direction     text NOT NULL,
  channel       text NOT NULL,
  source        text NOT NULL,
  author_id     text NOT NULL DEFAULT '',
  body          text NOT NULL,
  at            timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, message_id)
);
CREATE INDEX timeline_ref ON timeline_entries (tenant_id, contact_ref, at, message_id) WHERE contact_ref <> '';
CREATE INDEX timeline_phone ON timeline_entries (tenant_id, contact_phone, at, message_id) WHERE contact_phone <> '';
CREATE INDEX timeline_email ON timeline_entries (tenant_id, contact_email, at, message_id) WHERE contact_email <> '';
