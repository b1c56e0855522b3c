-- The fan-outs owed (PostgreSQL).
--
-- A new inbound message is filed together with a row here, in the same
-- statement, when the Service has a Notifier (conversations.FanOutStore):
-- the webhook answers after that commit, and the Service tells the
-- message's viewers right after, in batches, then deletes the rows. A row
-- that outlives its fan-out (a crash between the commit and the fan-out, a
-- fan-out that failed) is found by the periodic sweep
-- (conversations.Worker.FanOutOwed), so nobody goes untold; the
-- notification log's one entry per recipient and cause makes a second
-- fan-out of the same message tell nobody twice.
--
-- The table holds only what is in flight (rows live for milliseconds), so
-- the sweep's scan by age needs no index of its own.

CREATE TABLE fanout_owed (
  tenant_id  text COLLATE "C" NOT NULL,
  message_id text COLLATE "C" NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, message_id)
);
