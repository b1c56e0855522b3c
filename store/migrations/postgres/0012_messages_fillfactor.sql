-- A delivery writes its message twice: "sending" before the provider call
-- (the crash-safety mark), then the provider's receipt. Room left on each
-- page makes the first a HOT update (no indexed column changes), so it does
-- not touch the four indexes. Applies to pages written from now on.
ALTER TABLE messages SET (fillfactor = 90);
