package host_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/fieldtalk/fieldtalk/channel/twilio/twiliotest"
	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/examples/server/host"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
)

// privateCluster starts a Citus cluster of the test's own with
// scripts/citus.sh (its workers are stopped and started by the test, which
// a cluster shared with other tests cannot take), stopped when the test
// ends. It returns the coordinator's URL and the cluster's directory.
func privateCluster(t *testing.T) (string, string) {
	t.Helper()
	testdb.CitusDSN(t) // skips, or fails under CI, where no cluster can be had
	script, err := filepath.Abs("../../../scripts/citus.sh")
	if err != nil {
		t.Fatal(err)
	}
	// Under /tmp, not t.TempDir(): the nodes run as the postgres user,
	// who must reach the directory.
	dir, err := os.MkdirTemp("", "fieldtalk-citus-fault.")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(script, "stop", dir).CombinedOutput(); err != nil {
			t.Errorf("citus.sh stop: %v: %s", err, out)
		}
	})
	out, err := exec.Command(script, "start", dir).Output()
	if err != nil {
		t.Fatalf("citus.sh start: %v", err)
	}
	m := regexp.MustCompile(`FIELDTALK_CITUS_URL='([^']+)'`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("citus.sh start printed no URL: %s", out)
	}
	return string(m[1]), dir
}

// TestCitusWorkerDown stops the worker that holds the demo business's
// shards while the server runs: that business's requests and webhooks
// answer 503 (ErrUnavailable; Twilio retries a 503), another business on
// the other worker goes on, and once the worker is back every message that
// was accepted is there.
func TestCitusWorkerDown(t *testing.T) {
	coordinator, dir := privateCluster(t)
	script, _ := filepath.Abs("../../../scripts/citus.sh")
	ctx := context.Background()
	tw := twiliotest.NewServer(t)
	r := start(t, host.Config{
		PublicURL: publicURL, Database: coordinator + "&citus.shard_count=4&citus.multi_task_query_log_level=error",
		Citus: true, SMSNumber: number,
		Twilio: host.TwilioConfig{AccountSID: tw.AccountSID(), AuthToken: tw.AuthToken(), BaseURL: tw.URL()},
	})
	webhook := &twiliotest.WebhookClient{Signer: twiliotest.Signer{AuthToken: tw.AuthToken()}, Target: r.url}
	inbound := func(to, body string) int {
		t.Helper()
		in := twiliotest.Inbound{From: "+15005550123", To: to, Body: body}
		resp, err := webhook.Post(ctx, publicURL+host.TwilioInboundPath, in.Form(), "")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	admin, err := pgx.Connect(ctx, coordinator)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close(context.Background()) })
	workerOf := func(tenant conversations.TenantID) string {
		t.Helper()
		var port string
		if err := admin.QueryRow(ctx, `SELECT nodeport::text FROM pg_dist_shard_placement
WHERE shardid = get_shard_id_for_distribution_column('threads', $1::text)`, string(tenant)).Scan(&port); err != nil {
			t.Fatal(err)
		}
		return port
	}
	downPort := workerOf(r.demo.Tenant)
	down := ""
	for _, name := range []string{"worker1", "worker2"} {
		b, err := os.ReadFile(filepath.Join(dir, name+".port"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(string(b)) == downPort {
			down = name
		}
	}
	if down == "" {
		t.Fatalf("the demo business's shard is on port %s, no worker's", downPort)
	}
	// A second business, on the other worker.
	var other conversations.TenantID
	for i := 0; other == ""; i++ {
		if tn := conversations.TenantID("other-" + string(rune('a'+i))); workerOf(tn) != downPort {
			other = tn
		}
	}
	const otherNumber = "+15005550077"
	olga := conversations.Staff{Tenant: other, ID: "olga", Name: "Olga", Role: conversations.RoleDispatcher}
	if err := r.svc.PutStaff(ctx, olga); err != nil {
		t.Fatal(err)
	}
	if err := r.svc.ProvisionNumber(ctx, conversations.BusinessNumber{Tenant: other, Number: otherNumber, Default: true}); err != nil {
		t.Fatal(err)
	}

	tom := r.demo.Token("tom")
	accepted := map[string]string{} // body → number
	for _, to := range []string{number, otherNumber} {
		body := "before the outage, to " + to
		if code := inbound(to, body); code != http.StatusOK {
			t.Fatalf("inbound to %s answered %d", to, code)
		}
		accepted[body] = to
	}

	if out, err := exec.Command(script, "node-stop", dir, down).CombinedOutput(); err != nil {
		t.Fatalf("stop %s: %v: %s", down, err, out)
	}
	stopped := true
	t.Cleanup(func() {
		if stopped {
			_ = exec.Command(script, "node-start", dir, down).Run()
		}
	})

	r.expectError(t, "GET", "/v1/inbox", tom, nil, http.StatusServiceUnavailable, "unavailable")
	if code := inbound(number, "during the outage"); code != http.StatusServiceUnavailable {
		t.Fatalf("an inbound text for the business on the stopped worker answered %d, want 503 (Twilio retries it)", code)
	}
	if _, err := r.svc.Badge(ctx, r.demo.Staff[0].Viewer()); !errors.Is(err, conversations.ErrUnavailable) {
		t.Fatalf("Badge of the business on the stopped worker: %v, want ErrUnavailable", err)
	}
	// The other business goes on.
	body := "during the outage, to " + otherNumber
	if code := inbound(otherNumber, body); code != http.StatusOK {
		t.Fatalf("inbound for the business on the running worker answered %d", code)
	}
	accepted[body] = otherNumber
	if page, err := r.svc.Inbox(ctx, olga.Viewer(), conversations.InboxQuery{}); err != nil || len(page.Threads) != 1 {
		t.Fatalf("the business on the running worker lists its inbox: %d threads, %v", len(page.Threads), err)
	}

	if out, err := exec.Command(script, "node-start", dir, down).CombinedOutput(); err != nil {
		t.Fatalf("start %s: %v: %s", down, err, out)
	}
	stopped = false
	eventually(t, "the business on the restarted worker is served again", func() bool {
		_, err := r.svc.Badge(ctx, r.demo.Staff[0].Viewer())
		return err == nil
	})
	// Nothing accepted was lost: each accepted text is in its thread.
	for _, v := range []conversations.Viewer{r.demo.Staff[0].Viewer(), olga.Viewer()} {
		page, err := r.svc.Inbox(ctx, v, conversations.InboxQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, th := range page.Threads {
			h, err := r.svc.History(ctx, v, th.ID, conversations.HistoryQuery{})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range h.Messages {
				delete(accepted, m.Body)
			}
		}
	}
	if len(accepted) > 0 {
		t.Fatalf("accepted texts lost across the worker's outage: %v", accepted)
	}
	if code := inbound(number, "after the outage"); code != http.StatusOK {
		t.Fatalf("inbound after the worker is back answered %d", code)
	}
}
