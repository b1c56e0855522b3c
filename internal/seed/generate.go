package seed

import (
	"container/heap"
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Names of what the generator creates, shared with the benchmark so that it
// can make more of the same (a new customer's number, a thread's contact).

// TenantID is the id of business t.
func TenantID(t int) string { return fmt.Sprintf("biz%03d", t) }

// BusinessNumber is business t's SMS number.
func BusinessNumber(t int) string { return fmt.Sprintf("+1800555%04d", t) }

// CustomerPhone is the phone of business t's k-th customer (k below
// 3,000,000 keeps it a valid North American number: its area code starts
// with 2-9 and is no N11 service code).
func CustomerPhone(t, k int) string {
	area := 201 + t%700
	if area%100 == 11 {
		area++
	}
	return fmt.Sprintf("+1%03d%07d", area, 5000000+k)
}

func staffID(t, i int) string { return fmt.Sprintf("s%03d-%04d", t, i) }
func jobID(t, j int) string   { return fmt.Sprintf("job%03d-%06d", t, j) }

type tenant struct {
	staff       []string
	roles       []string
	techs       []int     // indexes into staff
	techWeights []float64 // cumulative workload weights of techs
	dispatchers []int
	jobs        int
}

type thread struct {
	tenant       int32
	internal     bool
	archived     bool
	id           string
	createdAt    time.Time
	createdBy    string
	phone        string
	subject      string
	authors      []string // staff who write in it
	lastAt       time.Time
	lastSeq      int64
	preview      string
	participants []string
	jobs         []int
}

type generator struct {
	cfg     Config
	now     time.Time
	tenants []tenant
	threads []thread
	// job assignments: per tenant, per job, the staff indexes
	assign        [][][]int
	assignedSince time.Time
}

func newGenerator(cfg Config) *generator {
	g := &generator{cfg: cfg, now: time.Now().UTC().Truncate(time.Second)}
	// Threads (and their jobs) are created over the year before the last
	// two days (pastTime): the newest Assigned share of that span keeps
	// its assignees.
	g.assignedSince = g.now.Add(-2*24*time.Hour - time.Duration(cfg.Assigned*float64(365*24*time.Hour)))
	r := rng(cfg.Seed, 1)
	b := cfg.Businesses
	g.tenants = make([]tenant, b)
	g.assign = make([][][]int, b)
	for t := range b {
		n := share(cfg.Staff, b, t)
		tn := &g.tenants[t]
		dispatchers := max(1, n/10)
		for i := range n {
			role := "technician"
			switch {
			case i == 0:
				role = "admin"
			case i <= dispatchers:
				role = "dispatcher"
				tn.dispatchers = append(tn.dispatchers, i)
			default:
				tn.techs = append(tn.techs, i)
			}
			tn.staff = append(tn.staff, staffID(t, i))
			tn.roles = append(tn.roles, role)
		}
		// Workloads differ: weights from 0.25 to 1.75.
		sum := 0.0
		for range tn.techs {
			sum += 0.25 + 1.5*r.Float64()
			tn.techWeights = append(tn.techWeights, sum)
		}
	}
	// Customer threads, their jobs and assignees.
	for t := range b {
		tn := &g.tenants[t]
		for k := range share(cfg.Threads, b, t) {
			th := thread{tenant: int32(t), phone: CustomerPhone(t, k), archived: r.IntN(50) == 0}
			th.createdAt = g.pastTime(r)
			th.createdBy = ""
			njobs := pick(r, 40, 35, 25) + 1
			seen := map[int]bool{}
			assigned := th.createdAt.After(g.assignedSince)
			for range njobs {
				j := tn.jobs
				tn.jobs++
				th.jobs = append(th.jobs, j)
				var staff []int
				for range pick(r, 60, 30, 10) + 1 {
					if !assigned {
						break
					}
					s := tn.techs[weighted(r, tn.techWeights)]
					if !containsInt(staff, s) {
						staff = append(staff, s)
					}
				}
				g.assign[t] = append(g.assign[t], staff)
				for _, s := range staff {
					if !seen[s] {
						seen[s] = true
						th.authors = append(th.authors, tn.staff[s])
					}
				}
			}
			// One thread in twenty was started by a technician, who takes part in it.
			if r.IntN(20) == 0 {
				s := tn.staff[tn.techs[weighted(r, tn.techWeights)]]
				th.participants = []string{s}
				th.createdBy = s
				th.authors = append(th.authors, s)
			}
			for range 2 {
				th.authors = append(th.authors, tn.staff[tn.dispatchers[r.IntN(len(tn.dispatchers))]])
			}
			th.id = uuidAt(r, th.createdAt)
			g.threads = append(g.threads, th)
		}
	}
	// Internal threads: one started by each staff member, with 1–3 others;
	// one in five about a job.
	for t := range b {
		tn := &g.tenants[t]
		for i, creator := range tn.staff {
			th := thread{tenant: int32(t), internal: true, createdBy: creator, archived: r.IntN(50) == 0}
			th.createdAt = g.pastTime(r)
			th.participants = []string{creator}
			for range r.IntN(3) + 1 {
				o := tn.staff[r.IntN(len(tn.staff))]
				if o != creator && !containsString(th.participants, o) {
					th.participants = append(th.participants, o)
				}
			}
			if len(th.participants) == 1 {
				th.participants = append(th.participants, tn.staff[(i+1)%len(tn.staff)])
			}
			th.authors = th.participants
			th.subject = subjects[r.IntN(len(subjects))]
			if r.IntN(5) == 0 && tn.jobs > 0 {
				th.jobs = []int{r.IntN(tn.jobs)}
			}
			th.id = uuidAt(r, th.createdAt)
			g.threads = append(g.threads, th)
		}
	}
	return g
}

// share is part i of n split in parts pieces as evenly as possible.
func share(n, parts, i int) int {
	s := n / parts
	if i < n%parts {
		s++
	}
	return s
}

// pick returns i with probability weights[i]/sum(weights).
func pick(r *rand.Rand, weights ...int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	x := r.IntN(total)
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// weighted picks an index by cumulative weights.
func weighted(r *rand.Rand, cum []float64) int {
	x := r.Float64() * cum[len(cum)-1]
	lo, hi := 0, len(cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if cum[m] < x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func containsString(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// pastTime is a moment in the year before now (not in the last two days,
// so threads have room for their messages).
func (g *generator) pastTime(r *rand.Rand) time.Time {
	const year = 365 * 24 * time.Hour
	return g.now.Add(-2*24*time.Hour - time.Duration(r.Int64N(int64(year)))).Truncate(time.Microsecond)
}

// uuidAt is a UUIDv7 for moment at, as conversations.NewID would have made then.
func uuidAt(r *rand.Rand, at time.Time) string {
	var u uuid.UUID
	ms := uint64(at.UnixMilli())
	for i := range 6 {
		u[i] = byte(ms >> (40 - 8*i))
	}
	x, y := r.Uint64(), r.Uint64()
	for i := 6; i < 16; i++ {
		if i < 14 {
			u[i] = byte(x >> (8 * (i - 6)))
		} else {
			u[i] = byte(y >> (8 * (i - 14)))
		}
	}
	u[6] = 0x70 | u[6]&0x0f
	u[8] = 0x80 | u[8]&0x3f
	return u.String()
}

func sid(r *rand.Rand) string {
	var b [16]byte
	x, y := r.Uint64(), r.Uint64()
	for i := range 8 {
		b[i], b[8+i] = byte(x>>(8*i)), byte(y>>(8*i))
	}
	return "SM" + hex.EncodeToString(b[:])
}

// copyAll streams every table in by COPY.
func (g *generator) copyAll(ctx context.Context, conn *pgx.Conn, st *Stats) error {
	cp := func(table string, cols []string, src pgx.CopyFromSource) (int64, error) {
		n, err := conn.CopyFrom(ctx, pgx.Identifier{table}, cols, src)
		if err != nil {
			return n, fmt.Errorf("seed: copy %s: %w", table, err)
		}
		return n, nil
	}
	created := g.now.Add(-400 * 24 * time.Hour)
	// staff
	var rows [][]any
	for t, tn := range g.tenants {
		for i, s := range tn.staff {
			rows = append(rows, []any{TenantID(t), s, fmt.Sprintf("Staff %d of business %d", i, t), tn.roles[i], created})
		}
	}
	n, err := cp("staff", []string{"tenant_id", "id", "name", "role", "created_at"}, pgx.CopyFromRows(rows))
	if err != nil {
		return err
	}
	st.Staff, st.Tenants = n, int64(len(g.tenants))
	rows = rows[:0]
	for t := range g.tenants {
		rows = append(rows, []any{TenantID(t), BusinessNumber(t), "sms", "", true, created})
	}
	if _, err := cp("business_numbers", []string{"tenant_id", "number", "channel", "messaging_service", "is_default", "created_at"}, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	// messages first: they decide each thread's last_seq, last_message_at and preview.
	st.Messages, err = cp("messages", messageCols, g.messageSource())
	if err != nil {
		return err
	}
	i := 0
	st.CustomerThreads, st.InternalThreads = 0, 0
	n, err = cp("threads", []string{"tenant_id", "id", "kind", "business_number", "contact_address", "contact_phone",
		"contact_name", "subject", "created_at", "created_by", "last_message_at", "last_seq", "preview", "archived"},
		source(func() ([]any, bool) {
			if i == len(g.threads) {
				return nil, false
			}
			th := &g.threads[i]
			i++
			kind, number, name := "internal", "", ""
			if th.internal {
				st.InternalThreads++
			} else {
				kind, number, name = "customer", BusinessNumber(int(th.tenant)), "Customer "+th.phone[len(th.phone)-4:]
				st.CustomerThreads++
			}
			return []any{TenantID(int(th.tenant)), th.id, kind, number, th.phone, th.phone, name, th.subject,
				th.createdAt, th.createdBy, th.lastAt, th.lastSeq, th.preview, th.archived}, true
		}))
	if err != nil {
		return err
	}
	_ = n
	// participants
	i = 0
	k := 0
	st.Participants, err = cp("thread_participants", []string{"tenant_id", "thread_id", "staff_id"}, source(func() ([]any, bool) {
		for i < len(g.threads) && k >= len(g.threads[i].participants) {
			i, k = i+1, 0
		}
		if i == len(g.threads) {
			return nil, false
		}
		th := &g.threads[i]
		k++
		return []any{TenantID(int(th.tenant)), th.id, th.participants[k-1]}, true
	}))
	if err != nil {
		return err
	}
	// job links
	i, k = 0, 0
	_, err = cp("thread_jobs", []string{"tenant_id", "thread_id", "job_id"}, source(func() ([]any, bool) {
		for i < len(g.threads) && k >= len(g.threads[i].jobs) {
			i, k = i+1, 0
		}
		if i == len(g.threads) {
			return nil, false
		}
		th := &g.threads[i]
		k++
		return []any{TenantID(int(th.tenant)), th.id, jobID(int(th.tenant), th.jobs[k-1])}, true
	}))
	if err != nil {
		return err
	}
	// assignments
	t, j := 0, 0
	k = 0
	st.Assignments, err = cp("job_assignments", []string{"tenant_id", "job_id", "staff_id"}, source(func() ([]any, bool) {
		for t < len(g.assign) && (j >= len(g.assign[t]) || k >= len(g.assign[t][j])) {
			if j < len(g.assign[t]) {
				j, k = j+1, 0
				continue
			}
			t, j, k = t+1, 0, 0
		}
		if t == len(g.assign) {
			return nil, false
		}
		k++
		return []any{TenantID(t), jobID(t, j), g.tenants[t].staff[g.assign[t][j][k-1]]}, true
	}))
	if err != nil {
		return err
	}
	for _, tn := range g.tenants {
		st.Jobs += int64(tn.jobs)
	}
	return nil
}

var messageCols = []string{"tenant_id", "thread_id", "seq", "id", "kind", "direction", "channel", "author_type",
	"author_id", "body", "subject", "media", "job_id", "source", "client_id", "from_address", "to_address",
	"created_at", "status", "sent_at", "delivered_at", "failed_at", "provider_id", "error_code", "error_reason"}

// stream is one thread's messages still to come.
type stream struct {
	thread int
	next   time.Time
	left   int
	gap    float64 // mean gap, in seconds
	r      *rand.Rand
}

type streams []*stream

func (s streams) Len() int           { return len(s) }
func (s streams) Less(i, j int) bool { return s[i].next.Before(s[j].next) }
func (s streams) Swap(i, j int)      { s[i], s[j] = s[j], s[i] }
func (s *streams) Push(x any)        { *s = append(*s, x.(*stream)) }
func (s *streams) Pop() any {
	old := *s
	x := old[len(old)-1]
	*s = old[:len(old)-1]
	return x
}

// messageSource yields every thread's messages merged in time order, as they
// would have arrived, so that the heap holds each thread's messages spread
// over the table as production would.
func (g *generator) messageSource() pgx.CopyFromSource {
	mean := float64(g.cfg.Messages) / float64(len(g.threads))
	h := make(streams, 0, len(g.threads))
	for i := range g.threads {
		th := &g.threads[i]
		r := rng(g.cfg.Seed, uint64(1000+i))
		n := 1 + int(r.ExpFloat64()*(mean-1)+0.5)
		span := g.now.Sub(th.createdAt).Seconds() * (0.05 + 0.95*r.Float64())
		h = append(h, &stream{thread: i, next: th.createdAt.Add(time.Second), left: n, gap: span / float64(n), r: r})
	}
	heap.Init(&h)
	return source(func() ([]any, bool) {
		if len(h) == 0 {
			return nil, false
		}
		s := h[0]
		th := &g.threads[s.thread]
		at := s.next
		th.lastSeq++
		row := g.message(th, s.r, th.lastSeq, at)
		th.lastAt = at
		s.left--
		if s.left == 0 {
			heap.Pop(&h)
		} else {
			next := at.Add(time.Duration(s.r.ExpFloat64()*s.gap*float64(time.Second)) + time.Millisecond).Truncate(time.Microsecond)
			if limit := g.now.Add(-time.Duration(s.left) * time.Second); next.After(limit) {
				next = at.Add(time.Millisecond)
			}
			s.next = next
			heap.Fix(&h, 0)
		}
		return row, true
	})
}

// message is message seq of th, at at.
func (g *generator) message(th *thread, r *rand.Rand, seq int64, at time.Time) []any {
	tenant := TenantID(int(th.tenant))
	id := uuidAt(r, at)
	var job string
	if len(th.jobs) > 0 && r.IntN(3) == 0 {
		job = jobID(int(th.tenant), th.jobs[r.IntN(len(th.jobs))])
	}
	if th.internal {
		body := internalBodies[r.IntN(len(internalBodies))]
		th.preview = preview(body)
		author := th.authors[r.IntN(len(th.authors))]
		return []any{tenant, th.id, seq, id, "internal", "outbound", "inapp", "staff", author, body, "", "[]", job,
			"mobile", id, "", "", at, "delivered", at, at, nil, "", "", ""}
	}
	number := BusinessNumber(int(th.tenant))
	if seq == 1 || r.IntN(2) == 0 {
		body := customerBodies[r.IntN(len(customerBodies))]
		th.preview = preview(body)
		return []any{tenant, th.id, seq, id, "customer_sms", "inbound", "sms", "customer", "", body, "", "[]", "",
			"provider", "", th.phone, number, at, "received", nil, nil, nil, sid(r), "", ""}
	}
	body := staffBodies[r.IntN(len(staffBodies))]
	th.preview = preview(body)
	author := th.authors[r.IntN(len(th.authors))]
	delivered := at.Add(time.Duration(1+r.IntN(8)) * time.Second)
	return []any{tenant, th.id, seq, id, "customer_sms", "outbound", "sms", "staff", author, body, "", "[]", job,
		"mobile", id, number, th.phone, at, "delivered", at, delivered, nil, sid(r), "", ""}
}

// preview is the store's preview of a body: white space folded, 80 runes.
func preview(body string) string {
	s := strings.Join(strings.Fields(body), " ")
	if utf8.RuneCountInString(s) <= 80 {
		return s
	}
	return string([]rune(s)[:80])
}

// source adapts a row function to pgx.CopyFromSource.
func source(next func() ([]any, bool)) pgx.CopyFromSource { return &funcSource{next: next} }

type funcSource struct {
	next func() ([]any, bool)
	row  []any
}

func (s *funcSource) Next() bool {
	var ok bool
	s.row, ok = s.next()
	return ok
}
func (s *funcSource) Values() ([]any, error) { return s.row, nil }
func (s *funcSource) Err() error             { return nil }

var subjects = []string{"Parts for tomorrow", "Van 3 schedule", "Warranty question", "Training Friday",
	"Customer complaint follow-up", "On-call rota", "Permit for the Elm St job", "Truck stock"}

var customerBodies = []string{
	"Hi, when will the tech get here?",
	"Is 2pm still okay for today?",
	"The water heater is making that noise again.",
	"Thanks, everything works great now!",
	"Can we move the appointment to Thursday morning? Something came up at work.",
	"Gate code is 4471, dog is friendly.",
	"How much will the replacement part cost, roughly? I'd like to know before you order it.",
	"Running 10 minutes late, sorry!",
	"Yes please go ahead with the repair.",
	"Do you take credit cards on site?",
	"The AC stopped blowing cold air last night, can someone come out today? It's getting really hot in here.",
	"Ok",
	"Please call me when you are on the way.",
	"Is there a warranty on the new unit?",
}

var staffBodies = []string{
	"On my way, ETA 20 minutes.",
	"Hi, this is your technician. I'm running about 15 minutes behind, sorry for the wait.",
	"All done! Let us know if anything else comes up.",
	"We have you down for Tuesday between 8 and 10am. Reply C to confirm.",
	"The part is on order and should arrive by Friday; we'll call to schedule the install.",
	"Could you send a photo of the model plate on the unit?",
	"Your invoice is ready: total $245.00. You can pay by card on site or online.",
	"Thanks for your patience today.",
}

var internalBodies = []string{
	"Can someone cover the 3pm in Oakland?",
	"Picked up the compressor, heading back.",
	"Customer at 12 Elm wants a callback about the quote.",
	"Running low on 3/4 copper fittings.",
	"Done for the day, van is parked at the shop.",
	"FYI the gate code changed for the Miller job.",
}
