package web_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// interactive are the roles a person acts on: each needs a name.
var interactive = map[string]bool{
	"button": true, "link": true, "textbox": true, "combobox": true, "checkbox": true, "radio": true,
	"menuitem": true, "tab": true, "switch": true, "searchbox": true, "listbox": true,
}

// unnamed lists the controls of the page that a screen reader would
// announce without a name, from Chromium's accessibility tree.
func unnamed(p *page) []string {
	p.t.Helper()
	tree, err := chromedp.Call(p.ctx, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
	if err != nil {
		p.t.Fatal(err)
	}
	var out []string
	for _, n := range tree.Nodes {
		if n.Ignored || n.Role == nil {
			continue
		}
		var role, name string
		_ = json.Unmarshal(n.Role.Value, &role)
		if n.Name != nil {
			_ = json.Unmarshal(n.Name.Value, &name)
		}
		if interactive[role] && strings.TrimSpace(name) == "" {
			out = append(out, role)
		}
	}
	return out
}

// lowContrast lists the visible text whose colour on its background is
// under WCAG AA: 4.5:1, or 3:1 for large text. Disabled controls are
// exempt, as WCAG says.
const lowContrast = `(() => {
	const rgba = s => { const m = s.match(/[\d.]+/g).map(Number); return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; };
	const lum = ([r, g, b]) => { const f = c => (c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
	const over = (top, under) => top.slice(0, 3).map((c, i) => c * top[3] + under[i] * (1 - top[3]));
	const background = el => {
		const layers = [];
		for (let e = el; e; e = e.parentElement) {
			const c = rgba(getComputedStyle(e).backgroundColor);
			if (c[3] > 0) layers.push(c);
			if (c[3] >= 1) break;
		}
		let bg = [255, 255, 255];
		for (const l of layers.reverse()) bg = over(l, bg);
		return bg;
	};
	const bad = [];
	const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	for (let t = walker.nextNode(); t; t = walker.nextNode()) {
		const el = t.parentElement;
		if (!t.textContent.trim() || !el.checkVisibility() || el.closest(':disabled, [aria-hidden="true"], .visually-hidden')) continue;
		const cs = getComputedStyle(el);
		const fg = over(rgba(cs.color), background(el));
		const [a, b] = [lum(fg), lum(background(el))].sort((x, y) => y - x);
		const ratio = (a + 0.05) / (b + 0.05);
		const size = parseFloat(cs.fontSize), bold = parseInt(cs.fontWeight) >= 700;
		const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
		if (ratio < need) bad.push(t.textContent.trim().slice(0, 40) + ' ' + ratio.toFixed(2));
	}
	return bad;
})()`

// overflows reports whether the page scrolls sideways: at 200 % zoom
// everything must reflow into the width instead.
const overflows = `document.documentElement.scrollWidth > innerWidth || [...document.querySelectorAll('main, footer, header')].some(e => e.scrollWidth > e.clientWidth + 1)`

func checkAccessible(t *testing.T, p *page, view string) {
	t.Helper()
	if u := unnamed(p); len(u) > 0 {
		t.Errorf("%s: controls without an accessible name: %v", view, u)
	}
	if bad := eval[[]string](p, lowContrast); len(bad) > 0 {
		t.Errorf("%s: text under AA contrast: %q", view, bad)
	}
}

// TestAccessible: every control of the inbox, a thread with suggestions and
// the new-thread form has a name and AA contrast; the app is used with the
// keyboard alone; at 200 % zoom nothing scrolls sideways.
func TestAccessible(t *testing.T) {
	s := startServer(t, false)
	s.customerTexts(t, "Hi, when will the tech get here?")
	tom := s.open(t, newBrowser(t), "tom")
	thread := s.jobThread(t, "tom")
	checkAccessible(t, tom, "inbox")

	// The keyboard alone: Tab to the thread, Enter opens it, type, Ctrl+Enter sends.
	focused := func() string {
		return eval[string](tom, `document.activeElement.dataset.thread || document.activeElement.id || ''`)
	}
	for i := 0; focused() != thread; i++ {
		if i > 20 {
			t.Fatal("Tab never reached the thread in the inbox")
		}
		tom.do(chromedp.KeyEvent(kb.Tab))
	}
	tom.do(chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS(`#messages[data-loaded]`)))
	tom.wait("suggestion chips", `document.querySelectorAll('#suggestions .chip').length >= 2`, 10*time.Second)
	checkAccessible(t, tom, "thread")
	for i := 0; focused() != "compose"; i++ {
		if i > 30 {
			t.Fatal("Tab never reached the composer")
		}
		tom.do(chromedp.KeyEvent(kb.Tab))
	}
	tom.do(chromedp.KeyEvent("Typed with the keyboard"), chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	tom.wait("the typed message sent", `(() => { const li = `+msgWithText("Typed with the keyboard")+`; return li && li.dataset.status === 'sent'; })()`, 10*time.Second)

	// 200 % zoom on the phone: half the CSS width, twice the pixels.
	tom.do(chromedp.EmulateViewport(195, 422, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	tom.wait("the thread reflowed", `!(`+overflows+`)`, 5*time.Second)
	tom.do(chromedp.Evaluate[chromedp.Void](`location.hash = "#/new"`), chromedp.WaitVisible(chromedp.CSS(`#new-thread`)))
	checkAccessible(t, tom, "new thread")
	tom.wait("the form reflowed", `!(`+overflows+`)`, 5*time.Second)
	tom.do(chromedp.Evaluate[chromedp.Void](`location.hash = "#/"`), chromedp.WaitVisible(chromedp.CSS(`#threads[data-loaded]`)))
	tom.wait("the inbox reflowed", `!(`+overflows+`)`, 5*time.Second)
	tom.screenshot(t)
}
