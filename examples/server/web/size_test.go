package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// maxFirstLoad is the most the app may transfer on a first load.
const maxFirstLoad = 150 << 10

// loadMetrics are what one load of the app cost, as the browser's
// Resource Timing saw it.
type loadMetrics struct {
	Transferred int     `json:"transferred"` // bytes on the wire: headers and (compressed) bodies
	Requests    int     `json:"requests"`
	InboxMs     float64 `json:"inbox_ms"` // from the start of the navigation to the inbox's rows on screen
}

const measure = `(() => {
	const nav = performance.getEntriesByType('navigation')[0];
	const res = performance.getEntriesByType('resource');
	const shown = performance.getEntriesByName('inbox-shown')[0];
	return { transferred: nav.transferSize + res.reduce((n, r) => n + r.transferSize, 0),
		requests: 1 + res.length, inbox_ms: shown ? shown.startTime : -1 };
})()`

// coldReload reloads the signed-in app as a browser that has nothing of it
// cached (no HTTP cache, no service worker) and measures the load.
func coldReload(p *page) loadMetrics {
	p.t.Helper()
	p.do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		if _, err := chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, network.SetBypassServiceWorker, network.SetBypassServiceWorkerParams{Bypass: true})
		return err
	}), chromedp.Reload())
	p.wait("the inbox on screen", `performance.getEntriesByName('inbox-shown').length > 0`, 10*time.Second)
	return eval[loadMetrics](p, measure)
}

// TestFirstLoadIsSmall: a first visit (the sign-in page, from a fresh
// profile) and a cold start of the signed-in inbox each transfer at most
// maxFirstLoad bytes.
func TestFirstLoadIsSmall(t *testing.T) {
	s := startServer(t, false)
	tom := s.open(t, newBrowser(t), "tom")
	// open's navigation was the first visit: everything the sign-in and
	// then the inbox fetched is in the page's Resource Timing.
	first := eval[loadMetrics](tom, measure)
	cold := coldReload(tom)
	t.Logf("first visit: %d bytes in %d requests; cold start of the inbox: %d bytes in %d requests, inbox on screen at %.0f ms",
		first.Transferred, first.Requests, cold.Transferred, cold.Requests, cold.InboxMs)
	for _, m := range []loadMetrics{first, cold} {
		if m.Transferred > maxFirstLoad || m.Transferred < 1000 {
			t.Errorf("a load transferred %d bytes, want at most %d (and more than nothing)", m.Transferred, maxFirstLoad)
		}
	}
}

// BenchmarkInboxOnScreen measures a cold start of the signed-in app on
// loopback: the time from the navigation to the inbox's rows on screen, and
// the bytes transferred.
func BenchmarkInboxOnScreen(b *testing.B) {
	s := startServer(b, false)
	p := s.open(b, newBrowser(b), "tom")
	var ms, kb float64
	for b.Loop() {
		m := coldReload(p)
		ms += m.InboxMs
		kb += float64(m.Transferred) / 1024
	}
	b.ReportMetric(ms/float64(b.N), "ms-to-inbox")
	b.ReportMetric(kb/float64(b.N), "KB-transferred")
}
