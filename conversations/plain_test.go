package conversations_test

import (
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
)

// TestServiceOverPlainStore runs this package's whole suite again, in a
// child process, over stores whose optional abilities are hidden
// (testdb.Under with testdb.EnvPlainStore set): every answer the tests
// check must be the same when the Service builds AppendInbound,
// VisibleHistory, Badges, VisibleThreads and ApplyStatusFrom from the core
// methods. (store's TestStore compares the two paths answer by answer.)
func TestServiceOverPlainStore(t *testing.T) {
	if os.Getenv(testdb.EnvPlainStore) != "" {
		t.Skip("this is the child run")
	}
	if testing.Short() {
		t.Skip("runs the package's suite again")
	}
	cmd := exec.Command(os.Args[0], "-test.count=1", "-test.skip=^TestServiceOverPlainStore$|^Example")
	cmd.Env = append(os.Environ(), testdb.EnvPlainStore+"=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the suite over a plain store:\n%s", out)
	assert.Contains(t, string(out), "PASS")
}

// TestUnderHidesAbilitiesWhenAsked checks that the child run above really
// runs over a plain store.
func TestUnderHidesAbilitiesWhenAsked(t *testing.T) {
	st := testdb.Under(testdb.SQLite(t))
	_, fast := st.(conversations.FastStore)
	if os.Getenv(testdb.EnvPlainStore) != "" {
		assert.False(t, fast, "a plain store shows no optional ability")
		_, wraps := st.(interface{ Unwrap() conversations.Store })
		assert.True(t, wraps, "it is storetest.Plain's wrapper")
		return
	}
	assert.True(t, fast, "store.DB has every optional ability")
}
