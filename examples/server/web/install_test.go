package web_test

import (
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestInstallable: Chromium finds nothing that stops the app from being
// installed (manifest, icons, a service worker controlling the page).
func TestInstallable(t *testing.T) {
	s := startServer(t, false)
	ctx, cancel := chromedp.NewContext(newBrowser(t))
	defer cancel()
	tom := s.openTab(t, ctx, "tom")
	tom.wait("the service worker controls the page", `navigator.serviceWorker.controller !== null`, 10*time.Second)
	res, err := chromedp.Call(tom.ctx, cdppage.GetInstallabilityErrors, cdp.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.InstallabilityErrors {
		var args []string
		for _, a := range e.ErrorArguments {
			args = append(args, a.Name+"="+a.Value)
		}
		t.Errorf("not installable: %s %v", e.ErrorID, args)
	}
}
