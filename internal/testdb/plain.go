package testdb

import (
	"os"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/store"
	"github.com/fieldtalk/fieldtalk/store/storetest"
)

// EnvPlainStore, when set (to anything), makes Under hide the store's
// optional abilities: the Service tests then run over the fallbacks a
// Service builds from the core methods (conversations.WithFallbacks).
const EnvPlainStore = "FIELDTALK_PLAIN_STORE"

// Under returns the Store a test's Service runs over: db itself, or
// storetest.Plain(db) when EnvPlainStore is set.
func Under(db *store.DB) conversations.Store {
	if os.Getenv(EnvPlainStore) != "" {
		return storetest.Plain(db)
	}
	return db
}
