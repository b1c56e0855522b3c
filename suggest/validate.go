package suggest

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// The contract a Suggester's answer must keep lives in conversations
// (conversations.CheckSuggestions, its rules conversations.SuggestCount and
// the others, and *conversations.SuggestionError). This package adds the
// two rules about what a text may claim, which need the request to judge.
const (
	// RuleGrounded: no time, span or day the job does not hold, stated as
	// fact. A time the customer named may come back only inside a question
	// ("Would 5 PM work instead?"): asking is not confirming.
	RuleGrounded conversations.SuggestionRule = "no time or day the job does not hold"
	// RuleHonest: no action stated as done ("I've added that to the notes",
	// "you've been refunded", "I booked you"), no price, percentage or free
	// offer, no promise of a refund, discount or credit. The job holds none of
	// these; a person must decide them.
	RuleHonest conversations.SuggestionRule = "no action, price or discount the request does not hold"
)

// Validate checks suggestions against the conversations.Suggester contract
// for req: conversations.CheckSuggestions, then that each text claims only
// what the request holds. It returns the first broken rule as a
// *conversations.SuggestionError, or nil.
//
// Times are found by Mentions, in English and Spanish, in digits and words:
// a clock time is grounded when it falls within fifteen minutes of the job's
// ETA or inside its window (in the job's time zone); a span from now ("in
// about an hour", "20 min out") when now plus the span lands within a
// quarter of the span, or fifteen minutes, of a fresh ETA; a day when it is
// the day of the job's ETA or window, seen from req.Now. Anything else is
// allowed only inside a question, and only when a message of the thread
// named it.
func Validate(req conversations.SuggestRequest, ss []conversations.Suggestion) error {
	if err := conversations.CheckSuggestions(ss); err != nil {
		return err
	}
	g := newGrounding(req)
	for i, s := range ss {
		if bad, ok := dishonest(s.Text); ok {
			return &conversations.SuggestionError{Rule: RuleHonest, Index: i, Detail: fmt.Sprintf("says %q, which nobody did or decided", bad)}
		}
		for _, m := range Mentions(g.withoutNames(s.Text)) {
			if !g.supports(m) {
				return &conversations.SuggestionError{Rule: RuleGrounded, Index: i, Detail: fmt.Sprintf("states %q, which the job does not hold", m.Text)}
			}
		}
	}
	return nil
}

// etaSlack is how far from the job's ETA a stated time may be: "around 10"
// for an ETA of 10:10 is honest rounding.
const etaSlack = 15 * time.Minute

// staleETA is how long past its ETA a job's estimate stops holding.
const staleETA = 10 * time.Minute

// Grounds knows which times, spans and days a job holds, seen from one
// moment in the job's time zone. Validate uses it on replies; a Suggester
// can use it to tell a customer's proposal from the appointment.
type Grounds struct {
	now    time.Time
	loc    *time.Location
	eta    time.Time // zero when unknown or stale
	start  time.Time // the window; zero when unset
	end    time.Time
	jobDay time.Time // the day of the window or ETA, at midnight in loc; zero when none
}

// NewGrounds returns the Grounds of job (nil holds nothing) at now, with
// times of day read in loc, the job's zone.
func NewGrounds(job *conversations.JobContext, loc *time.Location, now time.Time) *Grounds {
	g := &Grounds{now: now, loc: loc}
	if job == nil {
		return g
	}
	if !job.ETA.IsZero() && !job.ETA.Add(staleETA).Before(now) {
		g.eta = job.ETA
	}
	g.start, g.end = job.WindowStart, job.WindowEnd
	if g.end.IsZero() {
		g.end = g.start
	}
	for _, t := range []time.Time{job.WindowStart, job.ETA} {
		if !t.IsZero() {
			y, m, d := t.In(loc).Date()
			g.jobDay = time.Date(y, m, d, 0, 0, 0, 0, loc)
			break
		}
	}
	return g
}

// Holds reports whether the job holds m: a clock time within 15 minutes of
// a fresh ETA or inside the window, a span that lands near the ETA, the
// job's day.
func (g *Grounds) Holds(m Mention) bool {
	switch m.Kind {
	case MentionClock:
		return g.clockHeld(m.Minutes)
	case MentionDuration:
		return g.spanHeld(m.Min, m.Max)
	case MentionDay:
		return g.dayHeld(m.Day)
	}
	return false
}

// grounding is what Validate knows of a request: its job's Grounds and
// what the thread's messages named.
type grounding struct {
	*Grounds
	named []Mention
	names []string // the job's address and business: "at 12 Birch Lane" names no time
}

// withoutNames blanks the job's address and business name out of text.
func (g *grounding) withoutNames(text string) string {
	for _, n := range g.names {
		if i := strings.Index(strings.ToLower(text), strings.ToLower(n)); i >= 0 && len(n) == len(text[i:i+len(n)]) {
			text = text[:i] + "the place" + text[i+len(n):]
		}
	}
	return text
}

func newGrounding(req conversations.SuggestRequest) *grounding {
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	loc := time.UTC
	if req.Job != nil {
		if l, err := time.LoadLocation(req.Job.TimeZone); err == nil {
			loc = l
		}
	}
	g := &grounding{Grounds: NewGrounds(req.Job, loc, now)}
	if j := req.Job; j != nil {
		for _, n := range []string{j.Address, j.Business, req.Business} {
			if n = strings.TrimSpace(n); n != "" {
				g.names = append(g.names, n)
			}
		}
	}
	for _, m := range req.Messages {
		g.named = append(g.named, Mentions(m.Body)...)
	}
	return g
}

func (g *grounding) supports(m Mention) bool {
	if g.Holds(m) {
		return true
	}
	if !m.Question {
		return false
	}
	for _, n := range g.named {
		if n.Kind == m.Kind && sameMention(n, m) {
			return true
		}
	}
	return false
}

func sameMention(a, b Mention) bool {
	switch a.Kind {
	case MentionClock:
		for _, x := range a.Minutes {
			for _, y := range b.Minutes {
				if x == y {
					return true
				}
			}
		}
		return false
	case MentionDuration:
		return a.Min <= b.Max && b.Min <= a.Max
	}
	return a.Day == b.Day
}

// clockHeld: one of the minutes past midnight is within etaSlack of the ETA,
// or inside the window, in the job's zone.
func (g *Grounds) clockHeld(minutes []int) bool {
	for _, v := range minutes {
		if !g.eta.IsZero() {
			e := minuteOfDay(g.eta.In(g.loc))
			if d := v - e; d <= int(etaSlack/time.Minute) && -d <= int(etaSlack/time.Minute) {
				return true
			}
		}
		if !g.start.IsZero() {
			s, e := minuteOfDay(g.start.In(g.loc)), minuteOfDay(g.end.In(g.loc))
			if e < s { // a window across midnight
				if v >= s || v <= e {
					return true
				}
			} else if v >= s && v <= e {
				return true
			}
		}
	}
	return false
}

// spanHeld: now plus the span lands near a fresh ETA.
func (g *Grounds) spanHeld(lo, hi time.Duration) bool {
	if g.eta.IsZero() {
		return false
	}
	until := g.eta.Sub(g.now)
	slack := max(etaSlack, hi/4)
	return until >= lo-slack && until <= hi+slack
}

// dayHeld: the day named is the job's.
func (g *Grounds) dayHeld(d Day) bool {
	if g.jobDay.IsZero() {
		return false
	}
	y, m, dd := g.now.In(g.loc).Date()
	today := time.Date(y, m, dd, 0, 0, 0, 0, g.loc)
	ahead := int(g.jobDay.Sub(today).Hours()/24 + 0.5)
	switch d {
	case DayToday:
		return ahead == 0
	case DayTomorrow:
		return ahead == 1
	case DayNextWeek:
		return ahead >= 1 && ahead <= 14
	}
	return ahead >= 0 && ahead < 14 && time.Weekday(d) == g.jobDay.Weekday()
}

func minuteOfDay(t time.Time) int { return t.Hour()*60 + t.Minute() }

var (
	// A money amount, a percentage or a free offer: the job holds no prices.
	priceClaim = regexp.MustCompile(`(?i)(\$\s?\d|\d\s?(%|percent|por ciento|dollars|bucks|d[oó]lares|usd)\b|\b(free of charge|for free|at no (extra )?(cost|charge)|no charge|gratis|sin (costo|cargo))\b)`)
	// An action stated as done, by the sender or the business.
	doneClaim = regexp.MustCompile(`(?i)\b(i'?ve|we'?ve|i have|we have|i|we)\s+(already\s+|just\s+)?(added|noted|logged|updated|booked|scheduled|rescheduled|moved|changed|cancell?ed|refunded|credited|waived|applied|processed|sent you|issued|fixed your|confirmed your|put you)\b|\b(has|have|is|are|was|were)\s+(now\s+|already\s+|been\s+)*(added|noted|rescheduled|moved|cancell?ed|refunded|credited|waived|processed|applied)\b|\byou'?re\s+(now\s+)?(rescheduled|refunded|credited|moved)\b|\b(he|hemos|ya)\s+(agregado|anotado|agendado|programado|reprogramado|cancelado|reembolsado|acreditado|aplicado|cambiado|movido)\b|\b(est[aá]|qued[oó])\s+(ya\s+)?(cancelad|reprogramad|agendad|reembolsad|acreditad)[ao]s?\b`)
	// A refund, discount or credit offered; asking about one is fine.
	moneyWord = regexp.MustCompile(`(?i)\b(refund\w*|discount\w*|credit|waive\w*|comp\b|reembols\w*|descuento\w*|devoluci[oó]n|bonific\w*)`)
	hedge     = regexp.MustCompile(`(?i)\b(check|ask|see|look|whether|if|about|any|options?|eligible|revis\w*|consult\w*|pregunt\w*|si|sobre|verific\w*)\b`)
)

// dishonest returns the phrase of text that states an action nobody took,
// a price, or an offer nobody decided.
func dishonest(text string) (string, bool) {
	if m := doneClaim.FindString(text); m != "" {
		return m, true
	}
	if m := priceClaim.FindString(text); m != "" {
		return m, true
	}
	for _, sn := range sentences(normalizeTime(text)) {
		if sn.question {
			continue
		}
		if m := moneyWord.FindString(sn.text); m != "" && !hedge.MatchString(sn.text) {
			return m, true
		}
	}
	return "", false
}
