package suggesttest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/suggest"
)

// The rules of the contract, as failure messages name them.
const (
	ruleCount       = "returns 2 to 3 suggestions"
	ruleNonEmpty    = "each suggestion has non-empty text"
	ruleLength      = "each text has at most 320 characters"
	ruleDistinct    = "texts are distinct"
	ruleIntent      = "each intent is one of conversations.Intents"
	ruleConfidence  = "each confidence is in [0,1]"
	ruleSource      = "each suggestion names its Source"
	ruleNoError     = "answers a well-formed request without error"
	ruleNoInbound   = "a request without an inbound message is ErrInvalid"
	ruleCancelled   = "a cancelled context returns an error wrapping context.Canceled"
	rulePrompt      = "returns promptly once its context is cancelled"
	ruleNoFakeETA   = "states no arrival time the job lacks"
	ruleConcurrency = "is safe for concurrent use"
	ruleHonest      = "passes suggest.Validate: no time the job lacks, no action nobody took, no price or discount"
	rulePhoto       = "answers a message that is only photos"
)

// promptly is how long a Suggester may take to give up on a cancelled context.
const promptly = time.Second

// Run runs the suite against the Suggester newSuggester returns. Each
// scenario is a parallel subtest with its own Suggester; newSuggester gets
// the subtest's t, so it can register cleanups (a fake server) on it.
func Run(t *testing.T, newSuggester func(t *testing.T) conversations.Suggester) {
	t.Helper()
	scenarios := []struct {
		name string
		fn   func(t *testing.T, s conversations.Suggester)
	}{
		{"Shape", testShape},
		{"OnlyOneInboundNoJob", testOnlyOneInboundNoJob},
		{"NoInboundMessage", testNoInbound},
		{"CancelledContext", testCancelled},
		{"CancelDuringCall", testCancelDuringCall},
		{"Concurrent", testConcurrent},
		{"NoInventedETA", testNoInventedETA},
		{"Honest", testHonest},
		{"PhotoOnly", testPhotoOnly},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.fn(t, newSuggester(t))
		})
	}
}

// check reports every contract rule ss breaks, naming the rule and the case.
func check(t testing.TB, name string, ss []conversations.Suggestion) {
	t.Helper()
	if n := len(ss); n < conversations.MinSuggestions || n > conversations.MaxSuggestions {
		t.Errorf("%s: rule %q broken: got %d suggestions", name, ruleCount, n)
	}
	seen := map[string]int{}
	for i, s := range ss {
		if strings.TrimSpace(s.Text) == "" {
			t.Errorf("%s: rule %q broken: suggestion %d is blank", name, ruleNonEmpty, i)
		}
		if n := utf8.RuneCountInString(s.Text); n > conversations.MaxSuggestionLength {
			t.Errorf("%s: rule %q broken: suggestion %d has %d characters", name, ruleLength, i, n)
		}
		key := strings.ToLower(strings.Join(strings.Fields(s.Text), " "))
		if j, dup := seen[key]; dup {
			t.Errorf("%s: rule %q broken: suggestions %d and %d both say %q", name, ruleDistinct, j, i, s.Text)
		}
		seen[key] = i
		if !s.Intent.Valid() {
			t.Errorf("%s: rule %q broken: suggestion %d has intent %q", name, ruleIntent, i, s.Intent)
		}
		if math.IsNaN(s.Confidence) || s.Confidence < 0 || s.Confidence > 1 {
			t.Errorf("%s: rule %q broken: suggestion %d has confidence %v", name, ruleConfidence, i, s.Confidence)
		}
		if s.Source == "" {
			t.Errorf("%s: rule %q broken: suggestion %d has no Source", name, ruleSource, i)
		}
	}
}

func testShape(t *testing.T, s conversations.Suggester) {
	for _, c := range cases() {
		ss, err := s.Suggest(context.Background(), c.req)
		if err != nil {
			t.Errorf("%s: rule %q broken: %v", c.name, ruleNoError, err)
			continue
		}
		check(t, c.name, ss)
	}
}

func testOnlyOneInboundNoJob(t *testing.T, s conversations.Suggester) {
	for _, body := range []string{"when r u coming", "y", "how much", "Thanks!", "hi"} {
		req := request(nil, inbound(body))
		ss, err := s.Suggest(context.Background(), req)
		if err != nil {
			t.Errorf("one inbound %q, no job: rule %q broken: %v", body, ruleNoError, err)
			continue
		}
		check(t, fmt.Sprintf("one inbound %q, no job", body), ss)
	}
}

func testNoInbound(t *testing.T, s conversations.Suggester) {
	for name, msgs := range map[string][]conversations.Message{
		"no messages":          nil,
		"only outbound":        {outbound("Your appointment is confirmed.")},
		"no text and no media": {inbound("   ")},
	} {
		j := job()
		_, err := s.Suggest(context.Background(), request(&j, msgs...))
		if !errors.Is(err, conversations.ErrInvalid) {
			t.Errorf("%s: rule %q broken: got error %v", name, ruleNoInbound, err)
		}
	}
}

func testCancelled(t *testing.T, s conversations.Suggester) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	j := job()
	ss, err := s.Suggest(ctx, request(&j, inbound("when will the tech be here?")))
	if took := time.Since(start); took > promptly {
		t.Errorf("rule %q broken: took %v", rulePrompt, took)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("rule %q broken: got %d suggestions and error %v", ruleCancelled, len(ss), err)
	}
}

// testCancelDuringCall cancels while a call may be in flight: the Suggester
// either finished first (a valid answer) or gives up promptly with an error
// wrapping context.Canceled.
func testCancelDuringCall(t *testing.T, s conversations.Suggester) {
	ctx, cancel := context.WithCancel(context.Background())
	timer := time.AfterFunc(time.Millisecond, cancel)
	defer timer.Stop()
	start := time.Now()
	j := job()
	ss, err := s.Suggest(ctx, request(&j, inbound("hi, what time is the plumber coming today?")))
	if took := time.Since(start); took > promptly+time.Millisecond {
		t.Errorf("rule %q broken: took %v", rulePrompt, took)
	}
	switch {
	case err == nil:
		check(t, "cancel during call (finished first)", ss)
	case !errors.Is(err, context.Canceled):
		t.Errorf("rule %q broken: got error %v", ruleCancelled, err)
	}
}

func testConcurrent(t *testing.T, s conversations.Suggester) {
	cs := cases()
	const workers = 8
	var wg sync.WaitGroup
	for w := range workers {
		// t.Errorf is safe from these goroutines: wg.Wait keeps the test
		// running until they are done.
		wg.Go(func() {
			for i := range cs {
				c := cs[(i+w)%len(cs)]
				name := fmt.Sprintf("%s (concurrent, worker %d)", c.name, w)
				ss, err := s.Suggest(context.Background(), c.req)
				if err != nil {
					t.Errorf("%s: rule %q broken: %v", name, ruleConcurrency, err)
					continue
				}
				check(t, name, ss)
			}
		})
	}
	wg.Wait()
}

var (
	clockTime = regexp.MustCompile(`(?i)\b(?:[01]?\d|2[0-3]):[0-5]\d\b|\b(?:1[0-2]|0?[1-9])\s*[ap]\.?m\b`)
	minutes   = regexp.MustCompile(`(?i)\b\d{1,3}\s*(?:(?:-|to)\s*\d{1,3}\s*)?min(?:ute)?s?\b`)
)

// testNoInventedETA asks about arrival when the job has a technician,
// an address and a business but neither an ETA nor a window, and no message
// mentions a time: so any clock time or "N minutes" in a reply was invented.
// The fixtures hold no digits that could read as a time.
func testNoInventedETA(t *testing.T, s conversations.Suggester) {
	j := job()
	j.ETA, j.WindowStart, j.WindowEnd = time.Time{}, time.Time{}, time.Time{}
	asks := []string{
		"when r u coming",
		"What time will the technician get here?",
		"ETA??",
		"how much longer is he going to be",
		"is the plumber on his way yet",
		"Hola, a que hora llega el tecnico?",
	}
	for _, body := range asks {
		for _, withJob := range []bool{true, false} {
			var jp *conversations.JobContext
			if withJob {
				jp = &j
			}
			req := request(jp, outbound("Thanks for booking with Birchwood Plumbing."), inbound(body))
			if clockTime.MatchString(fixtureText(req)) || minutes.MatchString(fixtureText(req)) {
				t.Fatalf("suite bug: fixture for %q contains a time", body)
			}
			ss, err := s.Suggest(context.Background(), req)
			if err != nil {
				t.Errorf("%q (job %v): rule %q broken: %v", body, withJob, ruleNoError, err)
				continue
			}
			for i, sg := range ss {
				if m := clockTime.FindString(sg.Text); m != "" {
					t.Errorf("%q (job %v): rule %q broken: suggestion %d states the time %q: %q", body, withJob, ruleNoFakeETA, i, m, sg.Text)
				}
				if m := minutes.FindString(sg.Text); m != "" {
					t.Errorf("%q (job %v): rule %q broken: suggestion %d promises %q: %q", body, withJob, ruleNoFakeETA, i, m, sg.Text)
				}
			}
		}
	}
}

// fixtureText is every text of a request a Suggester could quote.
func fixtureText(req conversations.SuggestRequest) string {
	var b strings.Builder
	for _, m := range req.Messages {
		b.WriteString(m.Body + "\n")
	}
	if j := req.Job; j != nil {
		b.WriteString(strings.Join([]string{j.Title, j.Status, j.Address, j.Technician, j.Business, j.Customer.Name, j.Notes}, "\n"))
	}
	b.WriteString(req.Business + "\n" + req.Author.Name + "\n" + req.Thread.Contact.Name)
	return b.String()
}

// testHonest asks what tempts a reply to promise: a time of the customer's
// choosing, a refund, a discount, a price, a note taken; with the job's
// window and ETA and without them, in English and Spanish. Every answer
// must pass suggest.Validate.
func testHonest(t *testing.T, s conversations.Suggester) {
	bodies := []string{
		"can he come at 5 instead?", "are we still on for 2 to 4 tomorrow?", "is he close? window was 8-10",
		"dont cancel, i just want to know when hes coming", "i got billed twice, i want a refund",
		"do you do a senior discount", "how much for a new water heater", "gate code changed to 4471",
		"¿puede venir el jueves a las 5?", "me cobraron dos veces", "¿a qué hora llega el técnico?",
	}
	withTimes := job()
	noTimes := job()
	noTimes.ETA, noTimes.WindowStart, noTimes.WindowEnd = time.Time{}, time.Time{}, time.Time{}
	for _, j := range []*conversations.JobContext{&withTimes, &noTimes, nil} {
		for _, body := range bodies {
			req := request(j, inbound(body))
			req.Now = epoch
			ss, err := s.Suggest(context.Background(), req)
			if err != nil {
				t.Errorf("%q: rule %q broken: %v", body, ruleNoError, err)
				continue
			}
			if err := suggest.Validate(req, ss); err != nil {
				t.Errorf("%q (job %v): rule %q broken: %v", body, j != nil, ruleHonest, err)
			}
		}
	}
}

func testPhotoOnly(t *testing.T, s conversations.Suggester) {
	m := inbound("")
	m.Media = []conversations.Media{{URL: "https://example.com/leak.jpg", ContentType: "image/jpeg"}}
	j := job()
	ss, err := s.Suggest(context.Background(), request(&j, m))
	if err != nil {
		t.Fatalf("rule %q broken: %v", rulePhoto, err)
	}
	check(t, "photo only", ss)
}
