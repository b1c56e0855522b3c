package web_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// TestPaging: the inbox loads its keyset pages as it is scrolled, a
// thread's history loads upward, and pulling the inbox down reloads it.
func TestPaging(t *testing.T) {
	s := startServer(t, false)
	for i := range 25 {
		s.call(t, "POST", "/dev/sms", "", map[string]string{"from": fmt.Sprintf("+1500555%04d", 1000+i), "body": fmt.Sprintf("Customer %d here", i)}, nil, http.StatusCreated)
	}
	for i := 1; i <= 35; i++ {
		s.customerTexts(t, fmt.Sprintf("Message %d", i))
	}
	dana := s.open(t, newBrowser(t), "dana")
	rows := `document.querySelectorAll('#threads a.thread').length`
	if n := eval[int](dana, rows); n != 20 {
		t.Fatalf("the first page shows %d threads, want 20", n)
	}
	dana.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('#main').scrollTop = 1e6`))
	dana.wait("the second page", rows+` === 26 && document.querySelector('#more').textContent === ''`, 5*time.Second)

	dana.openThread(s.jobThread(t, "dana"))
	msgs := `document.querySelectorAll('#messages li.msg').length`
	if n := eval[int](dana, msgs); n != 30 {
		t.Fatalf("the thread opens with %d messages, want the newest 30", n)
	}
	if !eval[bool](dana, `!`+msgWithText("Message 1")+` && !!`+msgWithText("Message 35")) {
		t.Fatal("the thread did not open on its newest messages")
	}
	dana.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('#main').scrollTop = 0`))
	dana.wait("the earlier messages", msgs+` === 35 && !!`+msgWithText("Message 1")+` && document.querySelector('#earlier').hidden`, 5*time.Second)

	// Pull to refresh, with a finger: down from the top of the inbox.
	dana.do(chromedp.Evaluate[chromedp.Void](`location.hash = '#/'`), chromedp.WaitVisible(chromedp.CSS(`#threads[data-loaded]`)),
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	loads := `performance.getEntriesByType('resource').filter(r => r.name.includes('/v1/inbox?') && !r.name.includes('after=')).length`
	before := eval[int](dana, loads)
	dana.do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		for _, ev := range []input.DispatchTouchEventParams{
			{Type: input.DispatchTouchEventTypeTouchStart, TouchPoints: []*input.TouchPoint{{X: 195, Y: 200}}},
			{Type: input.DispatchTouchEventTypeTouchMove, TouchPoints: []*input.TouchPoint{{X: 195, Y: 300}}},
			{Type: input.DispatchTouchEventTypeTouchMove, TouchPoints: []*input.TouchPoint{{X: 195, Y: 400}}},
			{Type: input.DispatchTouchEventTypeTouchEnd, TouchPoints: []*input.TouchPoint{}},
		} {
			if _, err := chromedp.Call(ctx, input.DispatchTouchEvent, ev); err != nil {
				return err
			}
		}
		return nil
	}))
	dana.wait("the inbox reloaded by the pull", fmt.Sprintf("%s > %d", loads, before), 5*time.Second)
	dana.screenshot(t)
}
