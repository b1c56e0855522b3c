package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/fieldtalk/fieldtalk/channel/sendgrid/sendgridtest"
	"github.com/fieldtalk/fieldtalk/channel/twilio/twiliotest"
	"github.com/fieldtalk/fieldtalk/conversations"
)

// The day's cast and places.
const (
	tenant   = conversations.TenantID("acme-plumbing")
	number   = "+15005550006" // the business's Twilio number
	sender   = "office@acme-plumbing.example"
	customer = "+15005550999" // Pat Lee
	email    = "pat.lee@example.com"
	caller   = "+15005550777" // Sam Ortiz, a new caller
	job      = conversations.JobID("J-1042")
)

var (
	dana = conversations.Staff{Tenant: tenant, ID: "dana", Name: "Dana Reyes", Role: conversations.RoleDispatcher}
	tom  = conversations.Staff{Tenant: tenant, ID: "tom", Name: "Tom Becker", Role: conversations.RoleTechnician}
	tara = conversations.Staff{Tenant: tenant, ID: "tara", Name: "Tara Singh", Role: conversations.RoleTechnician}
)

func names() cast { return cast{"dana": "Dana", "tom": "Tom", "tara": "Tara"} }

// day runs the story on w's world.
type day struct {
	world
	ctx context.Context
}

func (d *day) say(format string, args ...any) { d.Out.printf(format, args...) }

// scene moves the clock and opens a scene.
func (d *day) scene(hh, mm, ss int, format string, args ...any) {
	t := d.Clock.at(hh, mm, ss)
	d.say("\n%s  "+format, append([]any{t.Format("15:04:05")}, args...)...)
}

func (d *day) run() error {
	for _, step := range []func() error{
		d.morning, d.customerTexts, d.suggestionsAndReply, d.offlineDraft,
		d.internal, d.escalation, d.workflowEmail, d.unassigned,
	} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func (d *day) morning() error {
	ctx := d.ctx
	if err := d.Svc.PutSettings(ctx, conversations.Settings{Tenant: tenant, Name: "Acme Plumbing"}); err != nil {
		return err
	}
	for _, st := range []conversations.Staff{dana, tom, tara} {
		if err := d.Svc.PutStaff(ctx, st); err != nil {
			return err
		}
	}
	for _, n := range []conversations.BusinessNumber{
		{Tenant: tenant, Number: number, Default: true},
		{Tenant: tenant, Number: sender, Channel: conversations.ChannelEmail, Default: true},
	} {
		if err := d.Svc.ProvisionNumber(ctx, n); err != nil {
			return err
		}
	}
	if err := d.DB.PutJob(ctx, conversations.JobContext{
		Tenant: tenant, ID: job, Title: "Water heater replacement", Status: "scheduled", Address: "12 Elm St",
		WindowStart: tourDay(9, 0, 0), WindowEnd: tourDay(11, 0, 0), ETA: tourDay(9, 10, 0),
		Technician: tom.Name, Business: "Acme Plumbing",
		Customer: conversations.Contact{Name: "Pat Lee", Phone: customer, Email: email, Ref: "C-77"},
	}); err != nil {
		return err
	}
	if err := d.Svc.Assign(ctx, tenant, job, tom.ID); err != nil {
		return err
	}
	d.say("A day at Acme Plumbing, on a temporary SQLite database. Texts go through the real Twilio adapter")
	d.say("to an in-process fake of Twilio's API, email through the real SendGrid adapter to a fake of SendGrid's;")
	d.say("their webhooks come back signed, as the providers sign them. The durable queue delivers.")
	d.say("Friday 27 November 2026. Dana dispatches. Tom is assigned job %s (water heater, Pat Lee, 12 Elm St,", job)
	d.say("09:00-11:00 UTC). Tara is on no job.")

	d.scene(8, 0, 0, "Tom opens job %s and starts the thread with the customer.", job)
	th, err := d.Svc.JobThread(ctx, tom.Viewer(), job)
	if err != nil {
		return err
	}
	d.say("          thread with %s from the business number %s, linked to job %s", th.Contact.Phone, th.BusinessNumber, th.Jobs[0])
	return nil
}

func (d *day) customerTexts() error {
	d.scene(8, 1, 30, "Pat texts the business number.")
	d.say("          Twilio posts the signed webhook, and posts it again, as it does when unsure it was heard.")
	in := twiliotest.Inbound{MessageSID: twiliotest.NewSID("SM"), From: customer, To: number, Body: "Hi, when will the tech get here?"}
	told := d.Phones.count(tom.ID)
	first, err := d.postTwilio("/twilio/inbound", in.Form(), "retry-token-1")
	if err != nil {
		return err
	}
	again, err := d.postTwilio("/twilio/inbound", in.Form(), "retry-token-1")
	if err != nil {
		return err
	}
	// The webhook answers once the message is stored; its fan-out is a
	// queued job that tells the phones a moment later.
	if err := wait("the fan-out to Tom's phone", func() bool { return d.Phones.count(tom.ID) > told }); err != nil {
		return err
	}
	th, err := d.Svc.JobThread(d.ctx, tom.Viewer(), job)
	if err != nil {
		return err
	}
	d.say("          answers %d and %d; messages in Pat's thread: %d", first, again, th.LastSeq)
	if err := d.inbox(tom); err != nil {
		return err
	}
	return d.inbox(dana)
}

func (d *day) suggestionsAndReply() error {
	ctx := d.ctx
	th, err := d.Svc.JobThread(ctx, tom.Viewer(), job)
	if err != nil {
		return err
	}
	d.scene(8, 2, 0, "Tom opens the thread; replies are suggested from the job's context.")
	ss, err := d.Svc.Suggestions(ctx, tom.Viewer(), th.ID)
	if err != nil {
		return err
	}
	for i, s := range ss {
		d.say("          %d. [%s] %s", i+1, s.Intent, s.Text)
	}
	if len(ss) == 0 {
		return errors.New("no suggestions")
	}

	d.scene(8, 2, 20, "Tom taps the first suggestion.")
	m, err := d.Svc.UseSuggestion(ctx, tom.Viewer(), ss[0].ID, conversations.UseSuggestion{ClientID: "toms-phone/1"})
	if err != nil {
		return err
	}
	d.say("          the reply is %s at %s; the queue hands it to Twilio", m.Status, m.CreatedAt.Format("15:04:05"))
	sid, err := d.awaitTwilio(m)
	if err != nil {
		return err
	}
	d.say("          Twilio accepted it; its signed status callbacks follow.")
	for _, st := range []struct {
		hh, mm, ss int
		status     string
	}{{8, 2, 24, "sent"}, {8, 2, 29, "delivered"}} {
		d.Clock.at(st.hh, st.mm, st.ss)
		if err := d.twilioStatus(m, sid, st.status); err != nil {
			return err
		}
	}
	got, err := d.DB.GetMessage(ctx, tenant, m.ID)
	if err != nil {
		return err
	}
	d.say("          the reply: %s (sent %s, delivered %s)", got.Status,
		got.SentAt.Format("15:04:05"), got.DeliveredAt.Format("15:04:05"))
	// What staff do with suggestions is counted, so the host can see
	// which intents need work.
	rates, err := d.DB.SuggestionRates(ctx, tenant, time.Time{})
	if err != nil {
		return err
	}
	for _, r := range rates {
		d.say("          suggestion feedback: %s from %s, %d offered: %.0f%% used, %.0f%% edited, %.0f%% dismissed",
			r.Intent, r.Source, r.Offered, 100*r.UsedRate(), 100*r.EditedRate(), 100*r.DismissedRate())
	}
	return d.badge(tom)
}

func (d *day) offlineDraft() error {
	ctx := d.ctx
	th, err := d.Svc.JobThread(ctx, tom.Viewer(), job)
	if err != nil {
		return err
	}
	d.scene(8, 40, 0, "In a basement with no signal, Tom writes an update; the app keeps it as a draft.")
	dr, err := d.Svc.SaveDraft(ctx, tom.Viewer(), conversations.Draft{Thread: th.ID, Body: "Found a leak behind the heater, adding 30 min. Still done by 11."})
	if err != nil {
		return err
	}
	drafts, err := d.Svc.Drafts(ctx, tom.Viewer())
	if err != nil {
		return err
	}
	d.say("          Tom's drafts, on every device he uses: %d", len(drafts))

	d.scene(8, 52, 0, "Signal is back. The app sends the draft; the answer is lost twice, so it sends it three times.")
	var ids []conversations.MessageID
	for range 3 {
		m, err := d.Svc.SendSMS(ctx, tom.Viewer(), conversations.SendSMS{Thread: th.ID, Body: dr.Body, ClientID: dr.ClientID, Draft: dr.ID})
		if err != nil {
			return err
		}
		ids = append(ids, m.ID)
	}
	m, err := d.DB.GetMessage(ctx, tenant, ids[0])
	if err != nil {
		return err
	}
	sid, err := d.awaitTwilio(m)
	if err != nil {
		return err
	}
	// Give a duplicate, were the queue to make one, time to reach Twilio.
	time.Sleep(100 * time.Millisecond)
	sent := 0
	for _, c := range d.Twilio.Creates() {
		if c.Form.Get("Body") == dr.Body {
			sent++
		}
	}
	drafts, err = d.Svc.Drafts(ctx, tom.Viewer())
	if err != nil {
		return err
	}
	d.say("          three sends, %s; Twilio was asked to send it %s; Tom's drafts: %d",
		count(distinct(ids), "message", "messages"), count(sent, "time", "times"), len(drafts))
	d.Clock.at(8, 52, 6)
	if err := d.twilioStatus(m, sid, "delivered"); err != nil {
		return err
	}
	return nil
}

func (d *day) internal() error {
	ctx := d.ctx
	d.scene(9, 5, 0, "Dana asks Tom about parts, in an internal thread.")
	th, err := d.Svc.StartInternal(ctx, dana.Viewer(), conversations.StartInternal{Participants: []conversations.StaffID{tom.ID}, Subject: "J-1042 parts", Job: job})
	if err != nil {
		return err
	}
	if _, err := d.Svc.SendInternal(ctx, dana.Viewer(), conversations.SendInternal{Thread: th.ID, Body: "Do you have the 40 gal unit on the truck?", ClientID: "dana-desk/1"}); err != nil {
		return err
	}
	if err := d.inbox(tom); err != nil {
		return err
	}
	d.scene(9, 6, 0, "Tom answers.")
	_, err = d.Svc.SendInternal(ctx, tom.Viewer(), conversations.SendInternal{Thread: th.ID, Body: "Yes, picked it up at 7.", ClientID: "toms-phone/2"})
	return err
}

func (d *day) escalation() error {
	d.scene(9, 40, 0, "The AI receptionist hands over a caller it cannot help.")
	m, err := d.Svc.Escalate(d.ctx, conversations.Escalation{
		Tenant: tenant, Contact: conversations.Contact{Phone: caller, Name: "Sam Ortiz"},
		Summary:    "Burst pipe in the basement, water is spreading. Caller is Sam Ortiz at 4 Oak Ave.",
		Transcript: "Caller: A pipe burst in my basement!\nReceptionist: I'm getting a person for you right now.",
		Reason:     "emergency", Urgent: true, Key: "call-981",
	})
	if err != nil {
		return err
	}
	d.say("          a new caller's thread has no watchers, so the dispatchers are told; urgent: %v", m.Urgent)
	return d.inbox(dana)
}

func (d *day) workflowEmail() error {
	ctx := d.ctx
	d.scene(11, 30, 0, "The job is done; the business's workflow emails Pat the invoice.")
	m, err := d.Svc.SendWorkflow(ctx, conversations.WorkflowMessage{
		Tenant: tenant, Channel: conversations.ChannelEmail, Job: job, Key: "invoice/J-1042",
		Contact: conversations.Contact{Name: "Pat Lee", Phone: customer, Email: email},
		Subject: "Your invoice for job J-1042", Body: "Thanks for choosing Acme Plumbing. Your invoice for $1,250 is ready.",
	})
	if err != nil {
		return err
	}
	if err := wait("SendGrid to get the email", func() bool { return len(d.SendGrid.Sends()) > 0 }); err != nil {
		return err
	}
	send := d.SendGrid.Sends()[0]
	d.say("          SendGrid accepted an email from %s to %s: %q", send.Mail.From.Email, send.Mail.Personalizations[0].To[0].Email, send.Mail.Subject)
	at := d.Clock.at(11, 30, 40)
	resp, err := d.Hooks.signer.Post(ctx, d.Hooks.srv.Client(), d.Hooks.srv.URL+"/sendgrid/events",
		sendgridtest.Batch(send.Event("processed", at.Add(-30*time.Second)), send.Event("delivered", at)), at)
	if err != nil {
		return err
	}
	resp.Body.Close()
	got, err := d.DB.GetMessage(ctx, tenant, m.ID)
	if err != nil {
		return err
	}
	d.say("          SendGrid's signed events (answer %d): the email was %s at %s", resp.StatusCode, got.Status, got.DeliveredAt.Format("15:04:05"))
	page, err := d.Svc.History(ctx, tom.Viewer(), m.Thread, conversations.HistoryQuery{})
	if err != nil {
		return err
	}
	d.say("          Pat's conversation, as Tom sees it (oldest first):")
	for i := len(page.Messages) - 1; i >= 0; i-- {
		m := page.Messages[i]
		who := string(m.AuthorType)
		if m.Author != "" {
			who = names()[m.Author]
		}
		d.say("            %s %-8s %-5s %-9s %s", m.CreatedAt.Format("15:04"), who, m.Channel, m.Status, m.Body)
	}
	entries, err := d.DB.ContactTimeline(ctx, tenant, conversations.Contact{Ref: "C-77", Phone: customer}, time.Time{}, 0)
	if err != nil {
		return err
	}
	d.say("          Pat's activity timeline in the CRM has %d entries.", len(entries))
	return nil
}

func (d *day) unassigned() error {
	ctx := d.ctx
	d.scene(12, 0, 0, "Tara, on no job today, sees none of it.")
	if err := d.inbox(tara); err != nil {
		return err
	}
	th, err := d.Svc.JobThread(ctx, dana.Viewer(), job)
	if err != nil {
		return err
	}
	if _, err := d.Svc.History(ctx, tara.Viewer(), th.ID, conversations.HistoryQuery{}); !errors.Is(err, conversations.ErrForbidden) {
		return fmt.Errorf("tara read Pat's thread: %v", err)
	}
	d.say("          opening Pat's thread anyway: forbidden")
	_, err = d.Svc.SendSMS(ctx, tara.Viewer(), conversations.SendSMS{Thread: th.ID, Body: "Hi Pat", ClientID: "taras-phone/1"})
	if !errors.Is(err, conversations.ErrForbidden) {
		return fmt.Errorf("tara texted into Pat's thread: %v", err)
	}
	d.say("          texting into it: forbidden")
	d.say("          notifications on Tara's phone today: %d", d.Phones.count(tara.ID))
	return nil
}

// postTwilio posts a signed Twilio webhook to path under the public URL.
func (d *day) postTwilio(path string, form url.Values, token string) (int, error) {
	resp, err := d.Hooks.twilio.Post(d.ctx, publicURL+path, form, token)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, fmt.Errorf("twilio webhook %s answered %d", path, resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// awaitTwilio waits until the queue has handed m to Twilio and Twilio's
// answer is recorded, and returns Twilio's sid for it.
func (d *day) awaitTwilio(m conversations.Message) (string, error) {
	var sid string
	err := wait("Twilio to accept "+string(m.ID), func() bool {
		got, err := d.DB.GetMessage(d.ctx, tenant, m.ID)
		sid = got.ProviderID
		return err == nil && sid != ""
	})
	return sid, err
}

// twilioStatus posts Twilio's signed status callback for m, to the URL the
// adapter gave Twilio when it sent m.
func (d *day) twilioStatus(m conversations.Message, sid, status string) error {
	for _, c := range d.Twilio.Creates() {
		if c.SID != sid {
			continue
		}
		cb := strings.TrimPrefix(c.Form.Get("StatusCallback"), publicURL)
		form := twiliotest.Status{MessageSID: sid, From: m.From, To: m.To, Status: status}.Form()
		_, err := d.postTwilio(cb, form, "")
		return err
	}
	return fmt.Errorf("twilio has no message %s", sid)
}

func (d *day) inbox(st conversations.Staff) error {
	page, err := d.Svc.Inbox(d.ctx, st.Viewer(), conversations.InboxQuery{})
	if err != nil {
		return err
	}
	b, err := d.Svc.Badge(d.ctx, st.Viewer())
	if err != nil {
		return err
	}
	if len(page.Threads) == 0 {
		d.say("          %s's inbox (badge %d): empty", names()[st.ID], b)
		return nil
	}
	d.say("          %s's inbox (badge %d):", names()[st.ID], b)
	for _, t := range page.Threads {
		who := t.Contact.Phone
		if t.Kind == conversations.ThreadInternal {
			who = "internal: " + t.Subject
		}
		d.say("            %-22s %-48s unread %d  %s", who, quoted(clip(t.Preview, 46)), t.Unread, t.LastMessageAt.Format("15:04:05"))
	}
	return nil
}

func (d *day) badge(st conversations.Staff) error {
	b, err := d.Svc.Badge(d.ctx, st.Viewer())
	if err != nil {
		return err
	}
	d.say("          %s's badge: %d", names()[st.ID], b)
	return nil
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// quoted is s in quotes as a person reads it: its line breaks as " / ",
// not as Go's escapes.
func quoted(s string) string {
	return `"` + strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " / ")), " ") + `"`
}

// count is n with its noun: "1 message", "3 messages".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func distinct(ids []conversations.MessageID) int {
	seen := map[conversations.MessageID]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	return len(seen)
}

// wait polls cond for up to 20 seconds.
func wait(what string, cond func() bool) error {
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}
