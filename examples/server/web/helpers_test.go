package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/fieldtalk/fieldtalk/channel/twilio/twiliotest"
	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/examples/server/host"
)

// The server's public URL (Twilio signs its webhooks over it) and its number.
const (
	publicURL = "https://fieldtalk.test"
	number    = "+15005550006"
)

// server is one example server on a fresh SQLite file.
type server struct {
	url     string
	demo    *host.Demo
	twilio  *twiliotest.Server        // nil with the console channel
	webhook *twiliotest.WebhookClient // signs Twilio's webhooks
	http    *http.Client
}

// startServer starts the example server as main does. With twilio it sends
// SMS through the real Twilio adapter to a twiliotest fake, whose status
// callbacks the test posts; without, through the console channel, with
// POST /dev/sms for a customer's text.
func startServer(t testing.TB, twilio bool) *server {
	t.Helper()
	s := &server{http: &http.Client{Timeout: 10 * time.Second}}
	cfg := host.Config{
		Addr: "127.0.0.1:0", PublicURL: publicURL, SMSNumber: number, HookSecret: "hook-secret-for-tests",
		Database: "sqlite:" + filepath.Join(t.TempDir(), "fieldtalk.db"), Stdout: io.Discard,
		PollInterval: 20 * time.Millisecond, ShutdownTimeout: 5 * time.Second,
		// The pictures the tests send are the app's own icons, on this
		// loopback server: http, which only a development host accepts.
		AllowHTTPMedia: true,
	}
	if twilio {
		s.twilio = twiliotest.NewServer(t)
		cfg.Twilio = host.TwilioConfig{AccountSID: s.twilio.AccountSID(), AuthToken: s.twilio.AuthToken(), BaseURL: s.twilio.URL()}
	}
	if err := cfg.Complete(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	var srv *host.Server
	// Migrating a new SQLite file takes a second alone, and many on a
	// machine busy with other suites: more than fx's default 15 s to start.
	app := fxtest.New(t, host.Logging(log), host.Core(cfg), host.Adapters(cfg), host.WithDemo(), fx.Populate(&srv, &s.demo),
		fx.StartTimeout(time.Minute))
	app.RequireStart()
	t.Cleanup(app.RequireStop)
	s.url = srv.URL()
	if twilio {
		s.webhook = &twiliotest.WebhookClient{Signer: twiliotest.Signer{AuthToken: s.twilio.AuthToken()}, Target: s.url}
	}
	return s
}

// call sends a JSON request as staff ("" for none) and decodes the answer
// into out (nil: ignore it); it fails the test on another status than want.
func (s *server) call(t *testing.T, method, path, staff string, body, out any, want int) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if staff != "" {
		req.Header.Set("Authorization", "Bearer "+s.demo.Token(conversations.StaffID(staff)))
	}
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s answered %d, want %d: %s", method, path, resp.StatusCode, want, got)
	}
	if out != nil {
		if err := json.Unmarshal(got, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, got)
		}
	}
}

// customerTexts makes Pat, the demo job's customer, text the business: by
// the console's /dev/sms, or by Twilio's signed inbound webhook.
func (s *server) customerTexts(t *testing.T, body string) {
	t.Helper()
	if s.twilio == nil {
		s.call(t, "POST", "/dev/sms", "", map[string]string{"from": s.demo.Customer.Phone, "body": body}, nil, http.StatusCreated)
		return
	}
	in := twiliotest.Inbound{MessageSID: twiliotest.NewSID("SM"), From: s.demo.Customer.Phone, To: number, Body: body}
	resp, err := s.webhook.Post(context.Background(), publicURL+host.TwilioInboundPath, in.Form(), "")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("Twilio's inbound webhook answered %d", resp.StatusCode)
	}
}

// sentToTwilio waits for the fake Twilio to be asked to send body, and
// checks that it was asked once.
func (s *server) sentToTwilio(t *testing.T, body string) twiliotest.Created {
	t.Helper()
	var got []twiliotest.Created
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		got = got[:0]
		for _, c := range s.twilio.Creates() {
			if c.Form.Get("Body") == body {
				got = append(got, c)
			}
		}
		if len(got) > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(got) != 1 {
		t.Fatalf("Twilio was asked to send %q %d times, want once", body, len(got))
	}
	return got[0]
}

// carrierReports posts Twilio's signed status callback for a sent message.
func (s *server) carrierReports(t *testing.T, c twiliotest.Created, status string) {
	t.Helper()
	callback := c.Form.Get("StatusCallback")
	form := twiliotest.Status{MessageSID: c.SID, From: number, To: c.Form.Get("To"), Status: status}.Form()
	resp, err := s.webhook.Post(context.Background(), callback, form, "")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status callback %s answered %d", status, resp.StatusCode)
	}
}

// jobThread is the demo job's thread with Pat, as the API shows it to staff.
func (s *server) jobThread(t *testing.T, staff string) string {
	t.Helper()
	var th struct {
		ID string `json:"id"`
	}
	s.call(t, "POST", "/v1/jobs/"+string(s.demo.Job)+"/thread", staff, nil, &th, http.StatusOK)
	return th.ID
}

type message struct {
	ID       string `json:"id"`
	Body     string `json:"body"`
	Status   string `json:"status"`
	ClientID string `json:"client_id"`
}

// messagesWith returns the thread's messages whose body is body.
func (s *server) messagesWith(t *testing.T, staff, thread, body string) []message {
	t.Helper()
	var page struct {
		Messages []message `json:"messages"`
	}
	s.call(t, "GET", "/v1/threads/"+thread+"/messages?limit=100", staff, nil, &page, http.StatusOK)
	var out []message
	for _, m := range page.Messages {
		if m.Body == body {
			out = append(out, m)
		}
	}
	return out
}

// chromium is the browser the tests drive: Debian's package, which
// scripts/test.sh installs. Without it the browser tests skip, except
// under CI=true, where they must run.
func chromium(t testing.TB) string {
	t.Helper()
	for _, p := range []string{os.Getenv("FIELDTALK_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium: CI must run the browser tests (scripts/test.sh installs Debian's chromium package)")
	}
	t.Skip("no chromium; install Debian's chromium package to run the browser tests")
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile for the test.
func newBrowser(t testing.TB) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(390, 844),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
	}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("starting chromium: %v", err)
	}
	t.Cleanup(func() { cancel(); cancelAlloc() })
	return ctx
}

// page is one tab of the app, signed in as one person.
type page struct {
	t   testing.TB
	ctx context.Context
	s   *server
}

// open opens the app in a new browser context of the browser (its own
// storage, as another phone has), signs in as staff and waits for the inbox.
func (s *server) open(t testing.TB, browser context.Context, staff string) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	return s.openTab(t, ctx, staff)
}

// openTab is open in a tab of the caller's making: a browser context made
// for a test is incognito, where Chromium installs no app.
func (s *server) openTab(t testing.TB, ctx context.Context, staff string) *page {
	t.Helper()
	p := &page{t: t, ctx: ctx, s: s}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				t.Logf("browser (%s): %s", staff, m)
			}
		}
	}()
	p.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(s.url+"/"),
		chromedp.Click(chromedp.CSS(`button[data-staff="`+staff+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#threads[data-loaded]`)))
	return p
}

func (p *page) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatal(err)
	}
}

// wait waits until the JavaScript expression is true, for at most within.
func (p *page) wait(what, expr string, within time.Duration) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, within+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(within), chromedp.WithPollingInterval(10*time.Millisecond))); err != nil {
		// Say what the screen showed instead.
		shown, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.querySelector('#net').dataset.state + ' replayed=' + document.querySelector('#net').dataset.replayed + ' | ' + document.title + ' | ' + document.querySelector('main').innerText.replace(/\n/g, ' / ')`))
		p.t.Fatalf("waiting for %s: %v; the screen showed: %s", what, err, shown)
	}
}

// eval returns the value of a JavaScript expression (promises awaited).
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// suggested has Pat text the business, and opens the job's thread on
// Tom's phone once the suggestion chips for that text are there.
func (s *server) suggested(t *testing.T, text string) (*page, string) {
	t.Helper()
	s.customerTexts(t, text)
	tom := s.open(t, newBrowser(t), "tom")
	thread := s.jobThread(t, "tom")
	tom.openThread(thread)
	tom.wait("suggestion chips", `document.querySelectorAll('#suggestions .chip').length >= 2`, 10*time.Second)
	return tom, thread
}

// openThread taps the inbox row of a thread and waits for its messages.
func (p *page) openThread(thread string) {
	p.t.Helper()
	p.do(chromedp.Click(chromedp.CSS(`a[data-thread="`+thread+`"]`)), chromedp.WaitVisible(chromedp.CSS(`#messages[data-loaded]`)))
}

// setOffline cuts the network (or restores it) the way DevTools does: every
// request fails, the service worker's too, and navigator.onLine follows.
func (p *page) setOffline(offline bool) {
	p.t.Helper()
	p.do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		sw := true
		var rules []*network.Conditions
		if offline {
			rules = []*network.Conditions{{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}}
		}
		if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			EmulateOfflineServiceWorker: &sw, MatchedNetworkConditions: rules,
		}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{
			Offline: offline, DownloadThroughput: -1, UploadThroughput: -1,
		})
		return err
	}))
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// screenshot saves the page as the phone shows it (390×844) to
// FIELDTALK_SCREENSHOTS, or to the test's temporary folder, named after the test.
func (p *page) screenshot(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("FIELDTALK_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, unsafeName.ReplaceAllString(t.Name(), "_")+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return path
}

// js quotes s as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// msgWithText is the selector-free JavaScript that finds the message
// bubble showing body.
func msgWithText(body string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('#messages li.msg')].find(li => li.querySelector('.text')?.textContent === %s)`, js(body))
}
