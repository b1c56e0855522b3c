-- Each staff member's notification preferences (conversations.Preferences),
-- and the threads they muted. Both are read for every notification's
-- recipients at once, by primary key.
CREATE TABLE staff_preferences (
  tenant_id     text COLLATE "C" NOT NULL,
  staff_id      text COLLATE "C" NOT NULL,
  push_mode     text NOT NULL DEFAULT '',
  preview       text NOT NULL DEFAULT '',
  quiet_start   text NOT NULL DEFAULT '',
  quiet_end     text NOT NULL DEFAULT '',
  time_zone     text NOT NULL DEFAULT '',
  exclude_muted boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, staff_id)
);

CREATE TABLE thread_mutes (
  tenant_id  text COLLATE "C" NOT NULL,
  staff_id   text COLLATE "C" NOT NULL,
  thread_id  text COLLATE "C" NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, staff_id, thread_id),
  FOREIGN KEY (tenant_id, thread_id) REFERENCES threads (tenant_id, id)
);
