-- The fan-outs owed (SQLite). The same table as the PostgreSQL schema; see
-- there for why.

CREATE TABLE fanout_owed (
  tenant_id  TEXT NOT NULL,
  message_id TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL,
  PRIMARY KEY (tenant_id, message_id)
);
