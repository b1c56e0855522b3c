-- Notifications and push devices (PostgreSQL).
--
-- notifications is the log the in-app stream replays from: one row per
-- notification per recipient, numbered densely per recipient by
-- notification_counters. The append moves the counter row under its lock, so
-- one recipient's notifications commit in seq order; a stream that has
-- delivered seq n can therefore ask for "after n" and miss nothing that
-- commits later. Rows are pruned by age; counters never are, so an id is
-- never issued twice.
--
-- push_devices holds the phone push tokens of each staff member.
--
-- As everywhere, tenant_id leads every key and index.

CREATE TABLE notification_counters (
  tenant_id text COLLATE "C" NOT NULL,
  staff_id  text COLLATE "C" NOT NULL,
  last_seq  bigint NOT NULL,
  PRIMARY KEY (tenant_id, staff_id)
);

CREATE TABLE notifications (
  tenant_id  text COLLATE "C" NOT NULL,
  staff_id   text COLLATE "C" NOT NULL,
  seq        bigint NOT NULL,
  type       text NOT NULL,
  thread_id  text COLLATE "C" NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL,
  payload    text NOT NULL, -- JSON: the message, read horizon, badge, urgency
  PRIMARY KEY (tenant_id, staff_id, seq)
);
-- Pruning by age, one tenant at a time.
CREATE INDEX notifications_age ON notifications (tenant_id, created_at);

CREATE TABLE push_devices (
  tenant_id  text COLLATE "C" NOT NULL,
  token      text COLLATE "C" NOT NULL,
  staff_id   text COLLATE "C" NOT NULL,
  platform   text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  -- A token is one app install: registering it again (another staff member
  -- signing in on the same phone) moves it.
  PRIMARY KEY (tenant_id, token),
  FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id)
);
CREATE INDEX push_devices_staff ON push_devices (tenant_id, staff_id, token);
