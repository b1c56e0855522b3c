package host_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/fieldtalk/fieldtalk/examples/server/host"
)

// TestSMSPaceIsSetAtStart: FIELDTALK_SMS_PER_SECOND reaches the outbox's
// pacing row of the demo business's number, where every instance and
// restart reads it.
func TestSMSPaceIsSetAtStart(t *testing.T) {
	r := start(t, host.Config{Database: "sqlite:" + filepath.Join(t.TempDir(), "fieldtalk.db"), SMSPerSecond: 2})
	var interval int64
	err := r.db.SQL().QueryRowContext(context.Background(), `SELECT interval_us FROM sender_pacing WHERE tenant_id = ? AND number = ?`,
		string(r.demo.Tenant), host.DefaultSMSNumber).Scan(&interval)
	if err != nil {
		t.Fatalf("the demo number's pace was not stored: %v", err)
	}
	if interval != 500_000 {
		t.Fatalf("2 messages a second is one every 500,000 µs; stored %d", interval)
	}
}
