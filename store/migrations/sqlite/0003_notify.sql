-- Notifications and push devices (SQLite). The same tables as the
-- PostgreSQL schema; see there for why they look as they do.
--
-- notifications is the log the in-app stream replays from, numbered densely
-- per recipient by notification_counters (appends are serialized by the
-- one writer). push_devices holds the phone push tokens of each staff member.

CREATE TABLE notification_counters (
  tenant_id TEXT NOT NULL,
  staff_id  TEXT NOT NULL,
  last_seq  INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, staff_id)
) WITHOUT ROWID;

CREATE TABLE notifications (
  tenant_id  TEXT NOT NULL,
  staff_id   TEXT NOT NULL,
  seq        INTEGER NOT NULL,
  type       TEXT NOT NULL,
  thread_id  TEXT NOT NULL DEFAULT '',
  created_at TIMESTAMP NOT NULL,
  payload    TEXT NOT NULL, -- JSON: the message, read horizon, badge, urgency
  PRIMARY KEY (tenant_id, staff_id, seq)
);
-- Pruning by age, one tenant at a time.
CREATE INDEX notifications_age ON notifications (tenant_id, created_at);

CREATE TABLE push_devices (
  tenant_id  TEXT NOT NULL,
  token      TEXT NOT NULL,
  staff_id   TEXT NOT NULL,
  platform   TEXT NOT NULL DEFAULT '',
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL,
  -- A token is one app install: registering it again (another staff member
  -- signing in on the same phone) moves it.
  PRIMARY KEY (tenant_id, token),
  FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id)
) WITHOUT ROWID;
CREATE INDEX push_devices_staff ON push_devices (tenant_id, staff_id, token);
