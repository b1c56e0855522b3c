package host_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/fieldtalk/fieldtalk/channel/sendgrid/sendgridtest"
	"github.com/fieldtalk/fieldtalk/channel/twilio/twiliotest"
	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/examples/server/host"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/notify/push/pushtest"
	"github.com/fieldtalk/fieldtalk/store"
)

const (
	publicURL = "https://api.example.com"
	number    = "+15005550006"
	sender    = "office@acme.example"
	secret    = "hook-secret-for-tests"
	pushToken = "fcm-token-of-toms-phone"

	pushSecret = "push-gateway-secret-for-tests"
)

// production is the server as configured for production, with the
// providers faked on loopback: Twilio and SendGrid are the real adapters
// talking to twiliotest and sendgridtest.
type production struct {
	*running
	twilio  *twiliotest.Server
	sg      *sendgridtest.Server
	signer  *sendgridtest.Signer
	webhook *twiliotest.WebhookClient
	fcm     *pushtest.FCM
	gateway *pushtest.Gateway
}

func startProduction(t *testing.T, db database, extra ...fx.Option) *production {
	t.Helper()
	tw, sg := twiliotest.NewServer(t), sendgridtest.NewServer(t)
	signer, err := sendgridtest.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	fcm, gw := pushtest.NewFCM(t), pushtest.NewGateway(t, []byte(pushSecret))
	creds := filepath.Join(t.TempDir(), "fcm.json")
	if err := os.WriteFile(creds, fcm.Credentials(), 0o600); err != nil {
		t.Fatal(err)
	}
	r := start(t, host.Config{
		PublicURL: publicURL, Database: db.dsn, Citus: db.citus, HookSecret: secret, SMSNumber: number, EmailFrom: sender,
		Twilio:   host.TwilioConfig{AccountSID: tw.AccountSID(), AuthToken: tw.AuthToken(), BaseURL: tw.URL()},
		SendGrid: host.SendGridConfig{APIKey: sg.APIKey(), WebhookPublicKey: signer.PublicKey(), BaseURL: sg.URL()},
		Push:     host.PushConfig{FCMCredentials: creds, FCMBaseURL: fcm.URL(), WebhookURL: gw.URL(), WebhookSecret: pushSecret},
	}, extra...)
	return &production{
		running: r, twilio: tw, sg: sg, signer: signer, fcm: fcm, gateway: gw,
		webhook: &twiliotest.WebhookClient{Signer: twiliotest.Signer{AuthToken: tw.AuthToken()}, Target: r.url, HTTP: r.http},
	}
}

// twilioPost posts a signed Twilio webhook to path (and query) under the public URL.
func (p *production) twilioPost(t *testing.T, path string, form map[string][]string, token string) int {
	t.Helper()
	resp, err := p.webhook.Post(context.Background(), publicURL+path, form, token)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// hook posts a signed receptionist or workflow hook.
func (p *production) hook(t *testing.T, path, key string, body any, at time.Time) (int, []byte) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("POST", p.url+path, strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = host.SignHook(key, b, at)
	resp, err := p.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out json.RawMessage
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// creates returns what the fake Twilio was asked to send with body.
func (p *production) creates(body string) []twiliotest.Created {
	var out []twiliotest.Created
	for _, c := range p.twilio.Creates() {
		if c.Form.Get("Body") == body {
			out = append(out, c)
		}
	}
	return out
}

// sentOnce waits until the message's delivery has been made (the
// provider's id is stored with it), then requires that the queue holds
// exactly one delivery job for it: that job has sent (any later run of it
// only asks the provider for the status), and no second job can send
// again. It returns the stored provider id. A fence from the database, not
// a pause: it holds however slow the machine is.
func (r *running) sentOnce(t *testing.T, id string) string {
	t.Helper()
	ctx := context.Background()
	var m conversations.Message
	eventually(t, "the message's provider id is stored", func() bool {
		var err error
		m, err = r.db.GetMessage(ctx, r.demo.Tenant, conversations.MessageID(id))
		if err != nil {
			t.Fatal(err)
		}
		return m.ProviderID != ""
	})
	args := "args::text"
	if r.db.Dialect() == store.DialectSQLite {
		args = "json(args)" // River keeps them as SQLite's binary JSONB
	}
	rows, err := r.db.SQL().QueryContext(ctx, `SELECT `+args+` FROM river_job WHERE kind = 'fieldtalk_deliver'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	jobs := 0
	for rows.Next() {
		var (
			raw  []byte
			args struct {
				What    string `json:"what"`
				Message string `json:"message"`
			}
		)
		if err := rows.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &args); err != nil {
			t.Fatalf("a delivery job's args %q: %v", raw, err)
		}
		if args.Message == id && args.What == string(conversations.DeliverMessage) {
			jobs++
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if jobs != 1 {
		t.Fatalf("the queue holds %d delivery jobs for message %s, want 1", jobs, id)
	}
	return m.ProviderID
}

// TestProductionEndToEnd drives the server's API and webhooks over HTTP
// the way the mobile app and the providers do, on each database.
func TestProductionEndToEnd(t *testing.T) {
	databases(t, func(t *testing.T, db database) {
		p := startProduction(t, db)
		d := p.demo
		dana, tom, tara := d.Token("dana"), d.Token("tom"), d.Token("tara")
		ctx := context.Background()

		// Health, readiness, and the answers every refusal gets.
		p.call(t, "GET", "/healthz", "", nil, http.StatusOK)
		p.call(t, "GET", "/readyz", "", nil, http.StatusOK)
		p.expectError(t, "GET", "/v1/inbox", "", nil, http.StatusUnauthorized, "unauthenticated")
		p.expectError(t, "GET", "/v1/inbox", "demo_tom_forged", nil, http.StatusUnauthorized, "unauthenticated")
		p.expectError(t, "GET", "/v1/nowhere", tom, nil, http.StatusNotFound, "not_found")

		// The job's thread was started with the demo; Tom watches it live.
		threads := p.inbox(t, tom)
		if len(threads) != 1 || threads[0].Contact.Phone != d.Customer.Phone {
			t.Fatalf("Tom's inbox at start = %+v, want the thread with the job's customer", threads)
		}
		job := threads[0].ID
		if th := decodeAs[thread](t, p.running, "GET", "/v1/threads/"+job, tom, nil, http.StatusOK); len(th.Jobs) != 1 || th.Jobs[0] != string(d.Job) {
			t.Fatalf("the thread in Tom's inbox = %+v, want it linked to %s", th, d.Job)
		}
		events := p.stream(t, tom)
		if ready := next(t, events, "ready"); ready.ID == "" {
			t.Fatal("the stream's ready event carries no id to resume from")
		}
		// His phone registers for push.
		p.call(t, "POST", "/v1/devices", tom, map[string]string{"token": pushToken, "platform": "android"}, http.StatusNoContent)
		devs, err := p.db.DeviceTokens(ctx, d.Tenant, "tom")
		if err != nil || len(devs) != 1 || devs[0] != pushToken {
			t.Fatalf("Tom's devices = %v, %v", devs, err)
		}

		// Pat texts the business: Twilio posts the signed webhook, twice.
		in := twiliotest.Inbound{MessageSID: twiliotest.NewSID("SM"), From: d.Customer.Phone, To: number, Body: "Hi, when will the tech get here?"}
		for range 2 {
			if code := p.twilioPost(t, host.TwilioInboundPath, in.Form(), "tok-1"); code != http.StatusOK {
				t.Fatalf("signed inbound answered %d", code)
			}
		}
		forged := &twiliotest.WebhookClient{Signer: twiliotest.Signer{AuthToken: strings.Repeat("0", 32)}, Target: p.url, HTTP: p.http}
		resp, err := forged.Post(ctx, publicURL+host.TwilioInboundPath, twiliotest.Inbound{From: "+15005550123", To: number, Body: "forged"}.Form(), "")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("a forged Twilio webhook answered %d, want 403", resp.StatusCode)
		}
		ev := next(t, events, "message")
		var note struct {
			Type    string `json:"type"`
			Thread  string `json:"thread"`
			Badge   int64  `json:"badge"`
			Message struct {
				Body string `json:"body"`
			} `json:"message"`
		}
		if err := json.Unmarshal([]byte(ev.Data), &note); err != nil {
			t.Fatal(err)
		}
		if note.Thread != job || note.Badge != 1 || note.Message.Body != in.Body {
			t.Fatalf("Tom's stream got %+v, want the text on the job's thread with badge 1", note)
		}
		// The same notification reaches his phone through FCM and the
		// host's push gateway, with the badge.
		wait, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		fcm, err := p.fcm.Next(wait, pushToken)
		for err == nil && fcm.Data["type"] == "badge" {
			fcm, err = p.fcm.Next(wait, pushToken)
		}
		if err != nil {
			t.Fatalf("no FCM push for Tom's phone: %v", err)
		}
		if fcm.Data["type"] != "message" || fcm.Data["thread"] != job || fcm.Data["badge"] != "1" || fcm.Notification == nil || fcm.Notification.Body != in.Body {
			t.Fatalf("FCM push = %+v %+v, want the text on the job's thread with badge 1", fcm.Data, fcm.Notification)
		}
		gw, err := p.gateway.Next(wait, string(d.Tenant), "tom")
		for err == nil && gw.Body.Type == "badge" { // the demo's assignment told Tom his badge first
			gw, err = p.gateway.Next(wait, string(d.Tenant), "tom")
		}
		if err != nil {
			t.Fatalf("no push to the host's gateway for Tom: %v", err)
		}
		if gw.Body.Type != "message" || gw.Body.Thread != job || gw.Body.Badge != 1 || gw.Body.Alert == nil {
			t.Fatalf("gateway push = %+v, want the text on the job's thread with badge 1 and an alert", gw.Body)
		}

		threads = p.inbox(t, tom)
		if len(threads) != 1 || threads[0].Unread != 1 || threads[0].LastSeq != 1 || threads[0].Preview != in.Body {
			t.Fatalf("Tom's inbox after one text delivered twice = %+v, want one unread message", threads)
		}
		if got := p.badge(t, tom); got != 1 {
			t.Fatalf("Tom's badge = %d, want 1", got)
		}
		if got := p.inbox(t, dana); len(got) != 1 {
			t.Fatalf("Dana (dispatcher) sees %d threads, want 1", len(got))
		}
		if got := p.inbox(t, tara); len(got) != 0 || p.badge(t, tara) != 0 {
			t.Fatalf("Tara, on no job, sees %+v", got)
		}
		p.expectError(t, "GET", "/v1/threads/"+job, tara, nil, http.StatusForbidden, "forbidden")
		p.expectError(t, "GET", "/v1/threads/"+job+"/messages", tara, nil, http.StatusForbidden, "forbidden")

		// Suggestions appear; Tom dismisses one and sends another.
		ss := decodeAs[map[string][]suggestion](t, p.running, "GET", "/v1/threads/"+job+"/suggestions", tom, nil, http.StatusOK)["suggestions"]
		if len(ss) < 2 || ss[0].Source != "rules" {
			t.Fatalf("suggestions = %+v, want two or three from the rules", ss)
		}
		p.call(t, "POST", "/v1/suggestions/"+ss[1].ID+"/dismiss", tom, nil, http.StatusNoContent)
		p.expectError(t, "POST", "/v1/suggestions/"+ss[0].ID+"/use", tom, map[string]string{}, http.StatusBadRequest, "invalid")
		use := map[string]string{"client_id": "tom-phone/1"}
		reply := decodeAs[message](t, p.running, "POST", "/v1/suggestions/"+ss[0].ID+"/use", tom, use, http.StatusAccepted)
		again := decodeAs[message](t, p.running, "POST", "/v1/suggestions/"+ss[0].ID+"/use", tom, use, http.StatusAccepted)
		if reply.ID != again.ID || reply.Status != "queued" || reply.Body != ss[0].Text {
			t.Fatalf("using a suggestion twice gave %+v and %+v, want one queued message", reply, again)
		}
		p.expectError(t, "POST", "/v1/suggestions/"+ss[0].ID+"/use", tara, use, http.StatusNotFound, "not_found")
		left := decodeAs[map[string][]suggestion](t, p.running, "GET", "/v1/threads/"+job+"/suggestions", tom, nil, http.StatusOK)["suggestions"]
		for _, s := range left {
			if s.ID == ss[0].ID || s.ID == ss[1].ID {
				t.Fatalf("suggestion %q is still offered after it was used or dismissed", s.Text)
			}
		}

		// The queue delivers through the real Twilio adapter, once, from
		// the business's number; Twilio's signed status callbacks follow.
		eventually(t, "the reply reaches Twilio", func() bool { return len(p.creates(reply.Body)) > 0 })
		sent := p.creates(reply.Body)
		if len(sent) != 1 || sent[0].Form.Get("From") != number || sent[0].Form.Get("To") != d.Customer.Phone {
			t.Fatalf("Twilio got %+v, want one text from %s to %s", sent, number, d.Customer.Phone)
		}
		callback := strings.TrimPrefix(sent[0].Form.Get("StatusCallback"), publicURL)
		if !strings.HasPrefix(callback, host.TwilioStatusPath+"?") {
			t.Fatalf("status callback %q is not under the public URL's status path", sent[0].Form.Get("StatusCallback"))
		}
		for _, st := range []string{"sent", "delivered"} {
			form := twiliotest.Status{MessageSID: sent[0].SID, From: number, To: d.Customer.Phone, Status: st}.Form()
			if code := p.twilioPost(t, callback, form, ""); code != http.StatusOK {
				t.Fatalf("status callback %s answered %d", st, code)
			}
		}
		got := p.history(t, tom, job)[0]
		if got.ID != reply.ID || got.Status != "delivered" || got.SentAt.IsZero() || got.DeliveredAt.Before(got.SentAt) || got.ProviderID != sent[0].SID {
			t.Fatalf("after the callbacks the reply is %+v, want delivered with its times and Twilio's sid", got)
		}
		if st := next(t, events, "status"); !strings.Contains(st.Data, reply.ID) {
			t.Fatalf("Tom's stream: status event %s is not about his reply", st.Data)
		}

		// An offline draft, edited on two devices, then sent three times
		// (the app retries when it gets no answer): one text goes out.
		dr := decodeAs[draft](t, p.running, "POST", "/v1/drafts", tom, map[string]any{"thread": job, "body": "Running 10 min late"}, http.StatusCreated)
		upd := map[string]any{"thread": job, "body": "Running 10 min late, there by 9:10", "version": dr.Version}
		dr2 := decodeAs[draft](t, p.running, "PUT", "/v1/drafts/"+dr.ID, tom, upd, http.StatusOK)
		p.expectError(t, "PUT", "/v1/drafts/"+dr.ID, tom, upd, http.StatusConflict, "conflict")
		if got := decodeAs[draft](t, p.running, "GET", "/v1/drafts/"+dr.ID, tom, nil, http.StatusOK); got.Body != dr2.Body {
			t.Fatalf("draft read back = %+v", got)
		}
		send := map[string]any{"body": dr2.Body, "client_id": dr2.ClientID, "draft": dr2.ID}
		var ids []string
		for range 3 {
			ids = append(ids, decodeAs[message](t, p.running, "POST", "/v1/threads/"+job+"/messages", tom, send, http.StatusAccepted).ID)
		}
		if ids[0] != ids[1] || ids[1] != ids[2] {
			t.Fatalf("three sends of one draft made messages %v", ids)
		}
		if got := decodeAs[map[string][]draft](t, p.running, "GET", "/v1/drafts", tom, nil, http.StatusOK)["drafts"]; len(got) != 0 {
			t.Fatalf("the sent draft is still there: %+v", got)
		}
		eventually(t, "the draft's text reaches Twilio", func() bool { return len(p.creates(dr2.Body)) > 0 })
		sid := p.sentOnce(t, ids[0])
		if c := p.creates(dr2.Body); len(c) != 1 || c[0].SID != sid {
			t.Fatalf("Twilio got the draft's text %+v, want it once, as the stored %s", c, sid)
		}

		// Reading clears the badge; Tom's other devices hear of it.
		read := decodeAs[map[string]int64](t, p.running, "POST", "/v1/threads/"+job+"/read", tom, nil, http.StatusOK)
		if read["badge"] != 0 || read["read_seq"] < 3 {
			t.Fatalf("after reading: %v, want badge 0", read)
		}
		next(t, events, "read")

		// Dana messages Tom internally; Tara cannot read it.
		internal := decodeAs[thread](t, p.running, "POST", "/v1/threads", dana, map[string]any{"participants": []string{"tom"}, "subject": "J-1042 parts", "job": "J-1042"}, http.StatusCreated)
		msg := decodeAs[message](t, p.running, "POST", "/v1/threads/"+internal.ID+"/messages", dana, map[string]string{"body": "Is the 40 gal unit on the truck?", "client_id": "dana-desk/1"}, http.StatusCreated)
		if msg.Channel != "inapp" || msg.Status != "delivered" {
			t.Fatalf("internal message = %+v, want delivered in the app", msg)
		}
		if got := p.badge(t, tom); got != 1 {
			t.Fatalf("Tom's badge after Dana's message = %d, want 1", got)
		}
		if ev := next(t, events, "message"); !strings.Contains(ev.Data, msg.ID) {
			t.Fatalf("Tom's stream: %s, want Dana's message", ev.Data)
		}
		p.expectError(t, "GET", "/v1/threads/"+internal.ID, tara, nil, http.StatusForbidden, "forbidden")
		p.expectError(t, "POST", "/v1/threads/"+internal.ID+"/messages", tara, map[string]string{"body": "hi", "client_id": "x"}, http.StatusForbidden, "forbidden")

		// The receptionist hands over an emergency from a new caller: only
		// a signed, fresh request is taken; the dispatcher is told.
		esc := map[string]any{
			"business_number": number, "contact": map[string]string{"phone": "+15005550777", "name": "Sam Ortiz"},
			"summary": "Burst pipe in the basement, water everywhere", "reason": "emergency", "urgent": true, "key": "call-981",
		}
		for _, bad := range []struct {
			key string
			at  time.Time
		}{{"wrong-secret", time.Now()}, {secret, time.Now().Add(-time.Hour)}} {
			if code, body := p.hook(t, "/webhooks/receptionist", bad.key, esc, bad.at); code != http.StatusUnauthorized {
				t.Fatalf("a receptionist hook signed with %q at %v answered %d %s, want 401", bad.key, bad.at, code, body)
			}
		}
		var escalated message
		for range 2 {
			code, body := p.hook(t, "/webhooks/receptionist", secret, esc, time.Now())
			if code != http.StatusOK {
				t.Fatalf("signed receptionist hook answered %d: %s", code, body)
			}
			var m message
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			if escalated.ID != "" && m.ID != escalated.ID {
				t.Fatalf("a repeated hand-off made a second message")
			}
			escalated = m
		}
		long := map[string]any{"business_number": number, "contact": map[string]string{"phone": "+15005550778"},
			"summary": "Caller wants a quote", "transcript": strings.Repeat("Caller: hello. ", 4000), "key": "call-982"}
		if code, body := p.hook(t, "/webhooks/receptionist", secret, long, time.Now()); code != http.StatusOK {
			t.Fatalf("a hand-off with a 60 KB transcript answered %d: %s", code, body)
		}
		long["transcript"], long["key"] = strings.Repeat("x", host.MaxHookBodyBytes), "call-983"
		if code, body := p.hook(t, "/webhooks/receptionist", secret, long, time.Now()); code != http.StatusRequestEntityTooLarge {
			t.Fatalf("a hook body over %d bytes answered %d: %s", host.MaxHookBodyBytes, code, body)
		}
		if escalated.Kind != "escalation" || !escalated.Urgent {
			t.Fatalf("escalation = %+v, want an urgent escalation", escalated)
		}
		danas := p.inbox(t, dana)
		if len(danas) != 4 || danas[1].ID != escalated.Thread || danas[1].Unread != 1 {
			t.Fatalf("Dana's inbox = %+v, want the quote caller's thread, then the urgent caller's, unread, above the job's and the internal one", danas)
		}
		if got := p.inbox(t, tara); len(got) != 0 {
			t.Fatalf("Tara sees %+v after the escalation", got)
		}

		// The host's workflow emails Pat; SendGrid's signed events report
		// it delivered, and a forged event changes nothing.
		wf := map[string]any{
			"tenant": string(d.Tenant), "channel": "email", "contact": map[string]string{"phone": d.Customer.Phone, "email": d.Customer.Email, "name": d.Customer.Name},
			"subject": "Your invoice for J-1042", "body": "Your invoice is ready: $1,250.", "job": "J-1042", "key": "invoice-1042",
		}
		code, body := p.hook(t, "/webhooks/workflow", secret, wf, time.Now())
		if code != http.StatusAccepted {
			t.Fatalf("workflow hook answered %d: %s", code, body)
		}
		var email message
		if err := json.Unmarshal(body, &email); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the email reaches SendGrid", func() bool { return len(p.sg.Sends()) > 0 })
		mail := p.sg.Sends()[0]
		if mail.Mail.From.Email != sender || mail.Mail.Subject != "Your invoice for J-1042" || len(p.sg.Sends()) != 1 {
			t.Fatalf("SendGrid got %+v, want one email from %s", mail.Mail, sender)
		}
		at := time.Now().Truncate(time.Second)
		forger, err := sendgridtest.NewSigner()
		if err != nil {
			t.Fatal(err)
		}
		resp, err = forger.Post(ctx, nil, p.url+host.SendGridEventsPath, sendgridtest.Batch(mail.Event("dropped", at)), at)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("a forged SendGrid event answered %d, want 403", resp.StatusCode)
		}
		resp, err = p.signer.Post(ctx, nil, p.url+host.SendGridEventsPath, sendgridtest.Batch(mail.Event("processed", at), mail.Event("delivered", at)), at)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("signed SendGrid events answered %d", resp.StatusCode)
		}
		var delivered message
		for _, m := range p.history(t, tom, job) {
			if m.ID == email.ID {
				delivered = m
			}
		}
		if delivered.Status != "delivered" || delivered.Channel != "email" || delivered.To != d.Customer.Email {
			t.Fatalf("the workflow email in Tom's view of the job thread = %+v, want delivered", delivered)
		}

		// Bad input gets a clear, typed answer and changes nothing.
		p.expectError(t, "POST", "/v1/threads/"+job+"/messages", tom, map[string]string{"body": "no client id"}, http.StatusBadRequest, "invalid")
		if e := p.expectError(t, "POST", "/v1/threads/"+job+"/messages", tom, map[string]string{"body": " ", "client_id": "c-blank"}, http.StatusBadRequest, "invalid"); e.Error.Field != "body" {
			t.Fatalf("a blank body's error names field %q, want body", e.Error.Field)
		}
		p.expectError(t, "POST", "/v1/threads/"+job+"/messages", tom, `{"body": "hi", "client_id": "c", "colour": "red"}`, http.StatusBadRequest, "invalid")
		if e := p.expectError(t, "POST", "/v1/threads/"+job+"/messages", tom, map[string]string{"body": "hi", "client_id": "c-src", "source": "receptionist"}, http.StatusBadRequest, "invalid"); e.Error.Field != "source" {
			t.Fatalf("the app claiming to be the receptionist: field %q, want source", e.Error.Field)
		}
		p.expectError(t, "POST", "/v1/threads/"+job+"/messages", tom, `{"body": `, http.StatusBadRequest, "invalid")
		p.expectError(t, "POST", "/v1/threads/"+job+"/messages", tom, fmt.Sprintf(`{"body": %q, "client_id": "big"}`, strings.Repeat("x", host.MaxBodyBytes)), http.StatusRequestEntityTooLarge, "too_large")
		p.expectError(t, "POST", "/v1/messages", tom, map[string]string{"to": "not a number", "body": "hi", "client_id": "c-num"}, http.StatusBadRequest, "invalid")
		p.expectError(t, "GET", "/v1/threads/"+string(conversations.NewID[conversations.ThreadID]()), tom, nil, http.StatusNotFound, "not_found")
		p.expectError(t, "GET", "/v1/inbox?limit=many", tom, nil, http.StatusBadRequest, "invalid")
		seg := decodeAs[map[string]any](t, p.running, "POST", "/v1/segments", tom, map[string]string{"body": "On my way 🚐"}, http.StatusOK)
		if seg["encoding"] != "UCS-2" || seg["segments"] != float64(1) {
			t.Fatalf("segments = %v, want one UCS-2 part", seg)
		}

		// Pat texts STOP: replying is refused with the reason, nothing is sent.
		stop := twiliotest.Inbound{From: d.Customer.Phone, To: number, Body: "STOP"}
		if code := p.twilioPost(t, host.TwilioInboundPath, stop.Form(), ""); code != http.StatusOK {
			t.Fatalf("STOP answered %d", code)
		}
		before := len(p.twilio.Creates())
		p.expectError(t, "POST", "/v1/threads/"+job+"/messages", tom, map[string]string{"body": "Are you sure?", "client_id": "c-stop"}, http.StatusUnprocessableEntity, "opted_out")
		if len(p.twilio.Creates()) != before {
			t.Fatal("a text went to a customer who opted out")
		}
	})
}

// TestEmbeddedDefault runs the server as `go run ./examples/server` does,
// with no account: the console prints what would be sent, and POST
// /dev/sms simulates the customer.
func TestEmbeddedDefault(t *testing.T) {
	r := start(t, host.Config{Database: "sqlite:" + t.TempDir() + "/fieldtalk.db"})
	d := r.demo
	tom := d.Token("tom")
	for _, want := range []string{"export TOM=" + tom, "export DANA=", "FIELDTALK_HOOK_SECRET=", "/dev/sms"} {
		if !strings.Contains(r.out.String(), want) {
			t.Fatalf("the banner lacks %q:\n%s", want, r.out.String())
		}
	}
	in := decodeAs[message](t, r, "POST", "/dev/sms", "", map[string]string{"from": "(500) 555-0999", "body": "Is 9am still ok?"}, http.StatusCreated)
	if in.From != d.Customer.Phone || in.To != host.DefaultSMSNumber {
		t.Fatalf("simulated inbound = %+v", in)
	}
	threads := r.inbox(t, tom)
	if len(threads) != 1 || threads[0].ID != in.Thread || threads[0].Unread != 1 {
		t.Fatalf("Tom's inbox = %+v, want the job's thread with the text", threads)
	}
	out := decodeAs[message](t, r, "POST", "/v1/threads/"+in.Thread+"/messages", tom, map[string]string{"body": "Yes, see you at 9.", "client_id": "tom/1"}, http.StatusAccepted)
	eventually(t, "the console prints the reply", func() bool {
		return strings.Contains(r.out.String(), fmt.Sprintf("SMS %s -> %s", host.DefaultSMSNumber, d.Customer.Phone)) &&
			strings.Contains(r.out.String(), `"Yes, see you at 9."`)
	})
	eventually(t, "the reply is sent", func() bool {
		m, err := r.svc.History(context.Background(), conversations.Viewer{Tenant: d.Tenant, Staff: "tom", Role: conversations.RoleTechnician}, conversations.ThreadID(in.Thread), conversations.HistoryQuery{Limit: 1})
		return err == nil && len(m.Messages) == 1 && m.Messages[0].ID == conversations.MessageID(out.ID) && m.Messages[0].Status == conversations.StatusSent
	})
	// Without Twilio or SendGrid their webhooks are not served.
	r.expectError(t, "POST", host.TwilioInboundPath, "", nil, http.StatusNotFound, "not_found")
	r.expectError(t, "POST", host.SendGridEventsPath, "", nil, http.StatusNotFound, "not_found")
}

// TestStopLetsDeliveriesFinish stops the server while a text is on its way
// to Twilio: the stop waits for it, so Twilio's answer is recorded rather
// than lost to a cancelled request.
func TestStopLetsDeliveriesFinish(t *testing.T) {
	tw := twiliotest.NewServer(t)
	target, err := url.Parse(tw.URL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	inFlight := make(chan struct{}, 1)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			inFlight <- struct{}{}
			time.Sleep(time.Second) // a slow provider
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(slow.Close)
	dsn := "sqlite:" + t.TempDir() + "/fieldtalk.db"
	r := start(t, host.Config{
		PublicURL: publicURL, Database: dsn, SMSNumber: number,
		Twilio: host.TwilioConfig{AccountSID: tw.AccountSID(), AuthToken: tw.AuthToken(), BaseURL: slow.URL},
	})
	tom := r.demo.Token("tom")
	job := r.inbox(t, tom)[0].ID
	m := decodeAs[message](t, r, "POST", "/v1/threads/"+job+"/messages", tom, map[string]string{"body": "On my way", "client_id": "tom/stop"}, http.StatusAccepted)
	select {
	case <-inFlight:
	case <-time.After(20 * time.Second):
		t.Fatal("the text never left for Twilio")
	}
	r.app.RequireStop()

	if n := len(tw.Creates()); n != 1 {
		t.Fatalf("Twilio accepted %d texts, want 1", n)
	}
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.GetMessage(context.Background(), r.demo.Tenant, conversations.MessageID(m.ID))
	if err != nil {
		t.Fatal(err)
	}
	if got.ProviderID != tw.Creates()[0].SID {
		t.Fatalf("after the stop the text is %s with provider id %q: the delivery in flight did not finish (want Twilio's sid %s)",
			got.Status, got.ProviderID, tw.Creates()[0].SID)
	}
	if resp, err := http.Get(r.url + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatal("the server still answers after the stop")
	}
}

// TestTwoInstances runs two servers on one PostgreSQL database (and on one
// Citus cluster, through its coordinator), as a production deployment does: a text that reaches one instance is streamed
// to a phone connected to the other (LISTEN/NOTIFY), and a reply accepted
// by either is delivered once.
func TestTwoInstances(t *testing.T) {
	t.Run("postgres", func(t *testing.T) { testTwoInstances(t, database{dsn: testdb.PostgresDSN(t)}) })
	t.Run("citus", func(t *testing.T) { testTwoInstances(t, database{dsn: testdb.CitusDSN(t), citus: true}) })
}

func testTwoInstances(t *testing.T, db database) {
	tw := twiliotest.NewServer(t)
	cfg := host.Config{
		PublicURL: publicURL, Database: db.dsn, Citus: db.citus, SMSNumber: number,
		Twilio: host.TwilioConfig{AccountSID: tw.AccountSID(), AuthToken: tw.AuthToken(), BaseURL: tw.URL()},
	}
	a, b := start(t, cfg), start(t, cfg)
	tomOnA := a.demo.Token("tom")
	events := a.stream(t, tomOnA)
	next(t, events, "ready")

	webhookToB := &twiliotest.WebhookClient{Signer: twiliotest.Signer{AuthToken: tw.AuthToken()}, Target: b.url}
	in := twiliotest.Inbound{From: b.demo.Customer.Phone, To: number, Body: "Gate code is 4411"}
	resp, err := webhookToB.Post(context.Background(), publicURL+host.TwilioInboundPath, in.Form(), "")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("inbound to instance B answered %d", resp.StatusCode)
	}
	ev := next(t, events, "message")
	if !strings.Contains(ev.Data, in.Body) {
		t.Fatalf("Tom's stream on instance A got %s, want the text instance B received", ev.Data)
	}

	job := a.inbox(t, tomOnA)[0].ID
	send := map[string]string{"body": "Thanks, see you soon", "client_id": "tom/gate"}
	m1 := decodeAs[message](t, a, "POST", "/v1/threads/"+job+"/messages", tomOnA, send, http.StatusAccepted)
	m2 := decodeAs[message](t, b, "POST", "/v1/threads/"+job+"/messages", b.demo.Token("tom"), send, http.StatusAccepted)
	if m1.ID != m2.ID {
		t.Fatalf("one send through two instances made two messages: %s, %s", m1.ID, m2.ID)
	}
	eventually(t, "the reply reaches Twilio", func() bool { return len(tw.Creates()) > 0 })
	sid := a.sentOnce(t, m1.ID)
	if c := tw.Creates(); len(c) != 1 || c[0].SID != sid {
		t.Fatalf("Twilio got %+v from two instances, want one text, the stored %s", c, sid)
	}
}

// TestModelDownFallsBackToRules configures a model endpoint that does not
// answer: suggestions still come, from the rules, through suggest.Chain.
func TestModelDownFallsBackToRules(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"error":{"message":"overloaded"}}`, http.StatusServiceUnavailable)
	}))
	t.Cleanup(down.Close)
	r := start(t, host.Config{
		Database: "sqlite:" + filepath.Join(t.TempDir(), "fieldtalk.db"),
		Model:    host.ModelConfig{BaseURL: down.URL + "/v1/", Model: "any-model", APIKey: "k"},
	})
	in := decodeAs[message](t, r, "POST", "/dev/sms", "", map[string]string{"from": r.demo.Customer.Phone, "body": "Can we move it to Friday?"}, http.StatusCreated)
	ss := decodeAs[map[string][]suggestion](t, r, "GET", "/v1/threads/"+in.Thread+"/suggestions", r.demo.Token("tom"), nil, http.StatusOK)["suggestions"]
	if len(ss) < 2 || ss[0].Source != "rules" || ss[0].Intent != "reschedule" {
		t.Fatalf("suggestions with the model down = %+v, want the rules' reschedule replies", ss)
	}
}
