package outbox

import (
	"testing"
	"time"
)

// The retry budget's documented span (WithMaxAttempts) is what the default
// backoff really gives: every wait between the first and the last attempt,
// at its shortest (half, the jitter's floor) and its longest.
func TestDefaultBudgetSpan(t *testing.T) {
	o := &Outbox{cfg: config{backoffBase: 2 * time.Second, backoffMax: time.Hour}}
	var shortest, longest time.Duration
	for attempt := 1; attempt < defaultMaxAttempts; attempt++ {
		lo, hi := time.Duration(1<<62), time.Duration(0)
		for range 200 {
			d := o.backoff(attempt)
			lo, hi = min(lo, d), max(hi, d)
		}
		full := min(o.cfg.backoffBase<<(attempt-1), o.cfg.backoffMax)
		if lo < full/2 || hi > full {
			t.Fatalf("attempt %d: waits %v..%v, outside half to all of %v", attempt, lo, hi, full)
		}
		shortest += full / 2
		longest += full
	}
	if shortest < 94*time.Minute || longest > 189*time.Minute {
		t.Fatalf("the default budget spans %v to %v, not the 1 h 34 min to 3 h 8 min its doc states", shortest, longest)
	}
}
