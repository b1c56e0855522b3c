-- Reply suggestions offered to a viewer for one inbound message, and what
-- they did with them. Kept like messages: never deleted by the library.
CREATE TABLE suggestions (
  tenant_id   TEXT NOT NULL,
  id          TEXT NOT NULL,
  viewer_id   TEXT NOT NULL,
  thread_id   TEXT NOT NULL,
  message_id  TEXT NOT NULL,
  position    INTEGER NOT NULL,
  body        TEXT NOT NULL,
  intent      TEXT NOT NULL,
  confidence  REAL NOT NULL,
  urgent      BOOLEAN NOT NULL DEFAULT false,
  source      TEXT NOT NULL DEFAULT '',
  state       TEXT NOT NULL,
  sent_id     TEXT NOT NULL DEFAULT '',
  created_at  TIMESTAMP NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX suggestions_offered ON suggestions (tenant_id, viewer_id, message_id, position);
