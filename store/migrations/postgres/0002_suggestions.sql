-- Reply suggestions offered to a viewer for one inbound message, and what
-- they did with them. Kept like messages: never deleted by the library.
CREATE TABLE suggestions (
  tenant_id   text COLLATE "C" NOT NULL,
  id          text COLLATE "C" NOT NULL,
  viewer_id   text COLLATE "C" NOT NULL,
  thread_id   text COLLATE "C" NOT NULL,
  message_id  text COLLATE "C" NOT NULL,
  position    int NOT NULL,
  body        text NOT NULL,
  intent      text NOT NULL,
  confidence  double precision NOT NULL,
  urgent      boolean NOT NULL DEFAULT false,
  source      text NOT NULL DEFAULT '',
  state       text NOT NULL,
  sent_id     text COLLATE "C" NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX suggestions_offered ON suggestions (tenant_id, viewer_id, message_id, position);
