package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestInboundReachesOpenInbox: a customer's text appears in the open inbox
// of the technician on the job, without a reload, and the badge goes up;
// the inbox of a technician who may not see it stays empty.
func TestInboundReachesOpenInbox(t *testing.T) {
	s := startServer(t, false)
	b := newBrowser(t)
	tom, tara := s.open(t, b, "tom"), s.open(t, b, "tara")
	thread := s.jobThread(t, "tom")
	before := eval[string](tom, `document.querySelector('#tab-badge').textContent`)
	if before != "0" {
		t.Fatalf("Tom's badge before the text = %q, want 0", before)
	}

	body := "Hi, is the tech still coming at 2?"
	s.customerTexts(t, body)
	start := time.Now()
	tom.wait("the text in Tom's inbox", `(() => {
		const row = document.querySelector('a[data-thread="`+thread+`"]');
		return row && row.querySelector('.preview').textContent.includes(`+js(body)+`)
			&& row.querySelector('.count')?.textContent === '1'
			&& document.querySelector('#tab-badge').textContent === '1' && !document.querySelector('#tab-badge').hidden
			&& document.title === '(1) Conversations';
	})()`, time.Second)
	t.Logf("the text was on Tom's screen %s after the webhook answered", time.Since(start).Round(time.Millisecond))

	if n := eval[int](tara, `document.querySelectorAll('#threads a.thread').length`); n != 0 {
		t.Fatalf("Tara's inbox shows %d threads, want none", n)
	}
	if got := eval[string](tara, `document.querySelector('#tab-badge').textContent + (document.querySelector('#tab-badge').hidden ? ' hidden' : '')`); got != "0 hidden" {
		t.Fatalf("Tara's badge = %q, want 0 and hidden", got)
	}
	tom.screenshot(t)
}

// TestSuggestionTapSendsAndDelivers: tapping a chip sends it, and the
// message moves queued → sent → delivered on screen as Twilio reports.
func TestSuggestionTapSendsAndDelivers(t *testing.T) {
	s := startServer(t, true)
	tom, thread := s.suggested(t, "Hi, when will the tech get here?")
	text := eval[string](tom, `document.querySelector('#suggestions .chip .use').textContent`)
	tom.do(chromedp.Click(chromedp.CSS(`#suggestions .chip .use`)))

	statusIs := func(status, shown string) {
		t.Helper()
		tom.wait("the reply "+status, `(() => { const li = `+msgWithText(text)+`;
			return li && li.dataset.status === `+js(status)+` && li.querySelector('.status').textContent.startsWith(`+js(shown)+`); })()`, 10*time.Second)
	}
	// Accepted by the server: queued, or already being handed to Twilio
	// (whose answer, "queued", does not move a status back).
	tom.wait("the reply queued", `(() => { const li = `+msgWithText(text)+`;
		return li && !li.classList.contains('pending') && ({queued: 'Queued', sending: 'Sending…'})[li.dataset.status] === li.querySelector('.status').textContent; })()`, 10*time.Second)
	if n := eval[int](tom, `document.querySelectorAll('#suggestions .chip').length`); n != 0 {
		t.Fatalf("%d chips are still offered after one was used", n)
	}
	sent := s.sentToTwilio(t, text)
	s.carrierReports(t, sent, "sent")
	statusIs("sent", "Sent ")
	s.carrierReports(t, sent, "delivered")
	statusIs("delivered", "Delivered ")
	if ms := s.messagesWith(t, "tom", thread, text); len(ms) != 1 || ms[0].Status != "delivered" {
		t.Fatalf("the server holds %+v, want one delivered reply", ms)
	}
	tom.screenshot(t)
}

// TestOfflineSendsOnce: a message sent three times with the network cut
// waits in the outbox across a reload, and goes once when the network is back.
func TestOfflineSendsOnce(t *testing.T) {
	s := startServer(t, true)
	tom := s.open(t, newBrowser(t), "tom")
	thread := s.jobThread(t, "tom")
	tom.openThread(thread)
	tom.wait("the service worker controls the page", `navigator.serviceWorker.controller !== null`, 10*time.Second)

	tom.setOffline(true)
	tom.wait("the app to see it is offline", `document.querySelector('#net').dataset.state === 'offline'`, 5*time.Second)
	body := "On my way, there in 10 minutes"
	tom.do(chromedp.SendKeys(chromedp.CSS(`#compose`), body))
	eval[bool](tom, `(() => { for (let i = 0; i < 3; i++) document.querySelector('#send').click(); return true; })()`)
	waiting := `(() => { const li = ` + msgWithText(body) + `; return li && li.classList.contains('pending') && li.querySelector('.status').textContent === 'Waiting for connection'; })()`
	tom.wait("the message waiting", waiting, 5*time.Second)

	tom.do(chromedp.Reload())
	tom.wait("the message still waiting after a reload", waiting, 10*time.Second)
	if n := eval[int](tom, `document.querySelectorAll('#messages li.pending').length`); n != 1 {
		t.Fatalf("%d messages wait in the outbox, want 1", n)
	}
	if ms := s.messagesWith(t, "tom", thread, body); len(ms) != 0 {
		t.Fatalf("the server got %+v while the browser was offline", ms)
	}

	tom.setOffline(false)
	sent := s.sentToTwilio(t, body)
	s.carrierReports(t, sent, "sent")
	s.carrierReports(t, sent, "delivered")
	tom.wait("the message delivered", `(() => { const li = `+msgWithText(body)+`; return li && li.dataset.status === 'delivered'; })()`, 10*time.Second)
	if n := eval[int](tom, `[...document.querySelectorAll('#messages li.msg .text')].filter(e => e.textContent === `+js(body)+`).length`); n != 1 {
		t.Fatalf("the thread shows the message %d times, want once", n)
	}
	if ms := s.messagesWith(t, "tom", thread, body); len(ms) != 1 || ms[0].Status != "delivered" {
		t.Fatalf("the server holds %+v, want exactly one delivered message", ms)
	}
	time.Sleep(200 * time.Millisecond) // room for a second send, if the outbox were to make one
	s.sentToTwilio(t, body)
	tom.screenshot(t)
}

// TestDraftAcrossDevices: a draft typed on one phone appears on another of
// the same person; an edit made from a stale version is refused, shown, and
// not lost.
func TestDraftAcrossDevices(t *testing.T) {
	s := startServer(t, true)
	b := newBrowser(t)
	phone, tablet := s.open(t, b, "tom"), s.open(t, b, "tom")
	thread := s.jobThread(t, "tom")
	phone.openThread(thread)
	first := "Running 10 min late"
	phone.do(chromedp.SendKeys(chromedp.CSS(`#compose`), first))
	type draft struct {
		ID      string `json:"id"`
		Thread  string `json:"thread"`
		Body    string `json:"body"`
		Version int64  `json:"version"`
	}
	serverDraft := func(body string, after int64) draft {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			var ds struct{ Drafts []draft }
			s.call(t, "GET", "/v1/drafts", "tom", nil, &ds, http.StatusOK)
			for _, d := range ds.Drafts {
				if d.Thread == thread && d.Body == body && d.Version > after {
					return d
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("the server's drafts %+v never held %q", ds.Drafts, body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	v1 := serverDraft(first, 0)
	// The cost preview follows the text: one GSM-7 part, then, with a
	// character GSM-7 lacks and past 70 characters, two UCS-2 parts.
	phone.wait("the SMS preview", `document.querySelector('#segments').textContent === '19 characters · 1 SMS part · GSM-7'`, 5*time.Second)
	phone.do(chromedp.SendKeys(chromedp.CSS(`#compose`), strings.Repeat(" ok", 17)+" ✓"))
	phone.wait("the UCS-2 preview", `document.querySelector('#segments').textContent === '72 characters · 2 SMS parts · UCS-2'`, 5*time.Second)
	phone.do(chromedp.SetValue(chromedp.CSS(`#compose`), first), chromedp.Evaluate[chromedp.Void](`document.querySelector('#compose').dispatchEvent(new Event('input'))`))
	v1 = serverDraft(first, v1.Version) // the phone's last save, after those of the longer text

	tablet.openThread(thread)
	tablet.wait("the draft on the tablet", `document.querySelector('#compose').value === `+js(first), 5*time.Second)
	second := first + ", there by 9:10"
	tablet.do(chromedp.SendKeys(chromedp.CSS(`#compose`), ", there by 9:10"))
	if v2 := serverDraft(second, v1.Version); v2.ID != v1.ID || v2.Version <= v1.Version {
		t.Fatalf("the tablet's edit saved %+v over %+v, want a newer version of the same draft", v2, v1)
	}

	// The phone still holds version 1: its edit is refused and shown.
	phone.do(chromedp.SendKeys(chromedp.CSS(`#compose`), " sorry!"))
	phone.wait("the conflict shown", `(() => { const c = document.querySelector('#conflict');
		return !c.hidden && c.querySelector('blockquote')?.textContent === `+js(second)+`; })()`, 10*time.Second)
	if got := eval[string](phone, `document.querySelector('#compose').value`); got != first+" sorry!" {
		t.Fatalf("the phone's composer holds %q after the conflict, want its own text kept", got)
	}
	if d := serverDraft(second, v1.Version); d.Body != second {
		t.Fatalf("the stale edit overwrote the draft: %+v", d)
	}
	phone.screenshot(t)
}

// TestSuggestionEditAndDismiss: × dismisses a chip; the edit button puts a
// chip's text in the composer, and what is sent is the edited text.
func TestSuggestionEditAndDismiss(t *testing.T) {
	s := startServer(t, true)
	tom, thread := s.suggested(t, "Can you come tomorrow instead?")
	type suggestion struct {
		ID   string `json:"id"`
		Text string `json:"text"`
	}
	offered := func() []suggestion {
		var ss struct{ Suggestions []suggestion }
		s.call(t, "GET", "/v1/threads/"+thread+"/suggestions", "tom", nil, &ss, http.StatusOK)
		return ss.Suggestions
	}
	dismissed := eval[string](tom, `document.querySelector('#suggestions .chip').dataset.suggestion`)
	tom.do(chromedp.Click(chromedp.CSS(`#suggestions .chip .dismiss`)))
	tom.wait("the chip gone", `!document.querySelector('[data-suggestion="`+dismissed+`"]')`, 5*time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for still := true; still; {
		still = false
		for _, sg := range offered() {
			still = still || sg.ID == dismissed
		}
		if still && time.Now().After(deadline) {
			t.Fatalf("suggestion %s is still offered after its dismissal", dismissed)
		}
		time.Sleep(20 * time.Millisecond)
	}

	text := eval[string](tom, `document.querySelector('#suggestions .chip .use').textContent`)
	tom.do(chromedp.Click(chromedp.CSS(`#suggestions .chip .edit`)))
	tom.wait("the chip's text in the composer", `document.querySelector('#compose').value === `+js(text), 5*time.Second)
	edited := text + " Thanks, Pat!"
	tom.do(chromedp.SendKeys(chromedp.CSS(`#compose`), " Thanks, Pat!"), chromedp.Click(chromedp.CSS(`#send`)))
	tom.wait("the edited reply", `(() => { const li = `+msgWithText(edited)+`; return li && ['queued', 'sending'].includes(li.dataset.status); })()`, 10*time.Second)
	if ms := s.messagesWith(t, "tom", thread, edited); len(ms) != 1 {
		t.Fatalf("the server holds %+v, want the edited reply once", ms)
	}
	if ms := s.messagesWith(t, "tom", thread, text); len(ms) != 0 {
		t.Fatalf("the suggestion went out unedited: %+v", ms)
	}
	s.sentToTwilio(t, edited)
	tom.screenshot(t)
}

// TestInternalThread: Tom starts a thread with Dana about the job; it
// reaches her open inbox as unread, and she reads it.
func TestInternalThread(t *testing.T) {
	s := startServer(t, false)
	b := newBrowser(t)
	tom, dana := s.open(t, b, "tom"), s.open(t, b, "dana")
	tom.do(chromedp.Click(chromedp.CSS(`a[href="#/new"]`)), chromedp.WaitVisible(chromedp.CSS(`#new-thread`)),
		chromedp.Click(chromedp.CSS(`input[value="dana"]`)),
		chromedp.SendKeys(chromedp.CSS(`#subject`), "Parts for J-1042"),
		chromedp.SetValue(chromedp.CSS(`#job`), string(s.demo.Job)),
		chromedp.SendKeys(chromedp.CSS(`#first`), "Need a 50 gal tank from the depot"),
		chromedp.Click(chromedp.CSS(`#new-thread button[type="submit"]`)))
	tom.wait("the thread with the first message", `(() => { const li = `+msgWithText("Need a 50 gal tank from the depot")+`;
		return li && li.classList.contains('internal') && !li.classList.contains('pending'); })()`, 10*time.Second)
	if title := eval[string](tom, `document.querySelector('#title').textContent`); title != "Parts for J-1042" {
		t.Fatalf("the thread's title = %q", title)
	}
	tom.wait("the job's context", `document.querySelector('#jobs .job')?.textContent.includes('Water heater replacement')`, 5*time.Second)

	dana.wait("the thread in Dana's inbox, unread", `[...document.querySelectorAll('#threads a.thread')].some(a =>
		a.querySelector('.name').textContent === 'Parts for J-1042' && a.querySelector('.count')?.textContent === '1')`, 5*time.Second)
	dana.do(chromedp.Click(chromedp.CSS(`#threads a.thread.unread`)), chromedp.WaitVisible(chromedp.CSS(`#messages[data-loaded]`)))
	dana.wait("Tom's message, by name", `(() => { const li = `+msgWithText("Need a 50 gal tank from the depot")+`;
		return li && li.querySelector('.who').textContent === 'Tom Becker'; })()`, 5*time.Second)
	dana.wait("Dana's badge cleared", `document.title === 'Conversations'`, 5*time.Second)
	tom.screenshot(t)
}

// TestStreamResumes: a text that arrives while the phone has no network
// reaches its inbox when the network is back, replayed by the stream from
// the Last-Event-ID the app resumes with; nothing is reloaded by hand.
func TestStreamResumes(t *testing.T) {
	s := startServer(t, false)
	tom := s.open(t, newBrowser(t), "tom")
	thread := s.jobThread(t, "tom")
	tom.wait("the stream live", `document.querySelector('#net').dataset.state === 'live'`, 5*time.Second)
	tom.setOffline(true)
	tom.wait("the app offline", `document.querySelector('#net').dataset.state === 'offline'`, 5*time.Second)
	body := "Texted while the tech was in a basement"
	s.customerTexts(t, body)
	time.Sleep(300 * time.Millisecond) // the browser could not hear of it now; give it the chance to (wrongly) try
	if eval[bool](tom, `document.querySelector('#threads').textContent.includes(`+js(body)+`)`) {
		t.Fatal("the inbox changed while the network was cut")
	}
	tom.setOffline(false)
	tom.wait("the text replayed into the inbox", `(() => {
		const row = document.querySelector('a[data-thread="`+thread+`"]');
		return document.querySelector('#net').dataset.state === 'live' && row && row.querySelector('.preview').textContent.includes(`+js(body)+`)
			&& document.title === '(1) Conversations' && Number(document.querySelector('#net').dataset.replayed) >= 1;
	})()`, 10*time.Second)
	tom.screenshot(t)
}
