package push

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Every push honours its recipient's preferences, whatever the Renderer
// (the host's own included) made of the notification: the Service marks a
// notification Silent (a muted thread, quiet hours, a push mode that leaves
// it out) and sets its Preview, and show applies both after rendering.

// HiddenTitle is what a push shows of a message for a recipient whose
// preview preference is conversations.PreviewHidden.
const HiddenTitle = "New message"

// show renders n and applies the recipient's preferences to the result:
// a Silent notification only updates the badge, and a hidden preview shows
// HiddenTitle and nothing of the text or of who wrote it.
func (o options) show(n conversations.Notification) (Push, bool) {
	p, ok := o.render(n)
	switch {
	case !ok:
		return Push{}, false
	case n.Silent || p.Silent():
		return Push{}, true
	case n.Preview == conversations.PreviewHidden:
		return Push{Title: HiddenTitle}, true
	}
	return p, true
}

// CollapseKey is the key under which a phone keeps one notification per
// thread: a push replaces the one shown before for the same thread. It is
// the thread id when that is a valid APNs collapse id (at most 64 bytes of
// letters, digits, '-', '_', '.' and ':'), else a hash of it.
func CollapseKey(thread conversations.ThreadID) string {
	if len(thread) > 0 && len(thread) <= 64 && collapseSafe(string(thread)) {
		return string(thread)
	}
	sum := sha256.Sum256([]byte(thread))
	return "t-" + hex.EncodeToString(sum[:16])
}

func collapseSafe(s string) bool {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.', r == ':':
		default:
			return false
		}
	}
	return true
}
