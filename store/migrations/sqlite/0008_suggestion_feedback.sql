-- What staff do with suggestions, so a host can see which intents need
-- work: the language the customer wrote in, and for an edited suggestion
-- how many characters the sender changed (NULL otherwise).
ALTER TABLE suggestions ADD COLUMN language TEXT NOT NULL DEFAULT '';
ALTER TABLE suggestions ADD COLUMN edit_distance INTEGER;
CREATE INDEX suggestions_by_time ON suggestions (tenant_id, created_at);
