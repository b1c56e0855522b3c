package conversations_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// putJob makes job known to the world's Jobs (the store's table-backed CRM).
func (w *world) putJob(t *testing.T, job conversations.JobID) {
	t.Helper()
	require.NoError(t, w.db.PutJob(context.Background(), conversations.JobContext{Tenant: w.tenant, ID: job, Title: "Job " + string(job)}))
}
