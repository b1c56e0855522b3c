-- Each staff member's notification preferences (conversations.Preferences),
-- and the threads they muted. Both are read for every notification's
-- recipients at once, by primary key.
CREATE TABLE staff_preferences (
  tenant_id     TEXT NOT NULL,
  staff_id      TEXT NOT NULL,
  push_mode     TEXT NOT NULL DEFAULT '',
  preview       TEXT NOT NULL DEFAULT '',
  quiet_start   TEXT NOT NULL DEFAULT '',
  quiet_end     TEXT NOT NULL DEFAULT '',
  time_zone     TEXT NOT NULL DEFAULT '',
  exclude_muted BOOLEAN NOT NULL DEFAULT 0,
  updated_at    TIMESTAMP NOT NULL,
  PRIMARY KEY (tenant_id, staff_id)
) WITHOUT ROWID;

CREATE TABLE thread_mutes (
  tenant_id  TEXT NOT NULL,
  staff_id   TEXT NOT NULL,
  thread_id  TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL,
  PRIMARY KEY (tenant_id, staff_id, thread_id),
  FOREIGN KEY (tenant_id, thread_id) REFERENCES threads (tenant_id, id)
) WITHOUT ROWID;
