package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fieldtalk/fieldtalk/examples/server/host"
)

// hook posts a signed receptionist or workflow hook.
func (s *server) hook(t *testing.T, path string, body any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("POST", s.url+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = host.SignHook("hook-secret-for-tests", b, time.Now())
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("%s answered %d", path, resp.StatusCode)
	}
}

// TestThreadTellsKindsApart: an urgent escalation, an automated text, a
// picture from the customer and a reply refused because the customer opted
// out each read as what they are.
func TestThreadTellsKindsApart(t *testing.T) {
	s := startServer(t, false)
	pat := map[string]string{"phone": s.demo.Customer.Phone, "name": s.demo.Customer.Name}
	s.hook(t, "/webhooks/workflow", map[string]any{
		"tenant": s.demo.Tenant, "channel": "sms", "contact": pat, "job": s.demo.Job, "key": "reminder-1",
		"body": "Reminder: Acme Plumbing visits you today between 2 and 4 pm.",
	})
	s.hook(t, "/webhooks/receptionist", map[string]any{
		"business_number": number, "contact": pat, "job": s.demo.Job, "key": "call-1", "urgent": true,
		"summary": "Water is leaking from the heater onto the floor", "reason": "leak", "transcript": "Caller: there's water everywhere…",
	})
	s.call(t, "POST", "/dev/sms", "", map[string]any{"from": s.demo.Customer.Phone, "body": "Here is the leak",
		"media": []map[string]string{{"url": s.url + "/app/icon.svg", "content_type": "image/svg+xml"}}}, nil, http.StatusCreated)
	s.customerTexts(t, "STOP")

	tom := s.open(t, newBrowser(t), "tom")
	tom.openThread(s.jobThread(t, "tom"))
	tom.wait("every kind of message", `(() => {
		const who = [...document.querySelectorAll('#messages li.msg .who')].map(e => e.textContent);
		return who.includes('Automated text') && who.some(w => w.startsWith('Escalation from the receptionist'));
	})()`, 5*time.Second)
	if got := eval[bool](tom, `!!document.querySelector('#messages li.escalation.urgent .urgent-tag')`); !got {
		t.Fatal("the urgent escalation is not marked urgent")
	}
	if got := eval[bool](tom, `document.querySelector('#messages li.inbound img.thumb')?.getAttribute('alt') === 'Attached picture'`); !got {
		t.Fatal("the customer's picture has no thumbnail")
	}

	tom.do(chromedp.SendKeys(chromedp.CSS(`#compose`), "We'll be there at 2"), chromedp.Click(chromedp.CSS(`#send`)))
	tom.wait("the refusal in words", `(() => { const li = `+msgWithText("We'll be there at 2")+`;
		return li && li.classList.contains('failed') && li.querySelector('.status').textContent.includes('opted out of texts'); })()`, 10*time.Second)
	tom.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('#toast').hidden = true`))
	tom.screenshot(t)
}
