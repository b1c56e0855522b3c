package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fieldtalk/fieldtalk/channel/twilio"
	"github.com/fieldtalk/fieldtalk/channel/twilio/twiliotest"
	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/notify"
	"github.com/fieldtalk/fieldtalk/notify/inapp"
	"github.com/fieldtalk/fieldtalk/policy"
)

// viewerHeader carries the benchmark's stand-in for the host's
// authentication: "tenant|staff|role".
const viewerHeader = "X-Bench-Viewer"

func benchAuth(r *http.Request) (conversations.Viewer, error) {
	parts := strings.Split(r.Header.Get(viewerHeader), "|")
	if len(parts) != 3 {
		return conversations.Viewer{}, errors.New("bench: no viewer")
	}
	return conversations.Viewer{Tenant: conversations.TenantID(parts[0]), Staff: conversations.StaffID(parts[1]), Role: conversations.Role(parts[2])}, nil
}

// sseCase is an inbound message to a thread a technician is assigned to:
// the technician is told of it.
type sseCase struct {
	v conversations.Viewer
	t target
}

// SSE load: inbound messages posted at sseRate a second, from as many
// senders as needed, to threads of the technicians holding the open
// streams (one each).
const (
	sseStreams = 500
	sseRate    = 200
)

// measureSSE posts webhooks at sseRate a second, each to a thread one of
// the sseStreams open streams' technicians is assigned to, and takes the
// time from the POST to the message's event arriving on that technician's
// stream (notify/inapp's Hub as the Service's Notifier, its fan-out by its
// loop, with a running Outbox, its SSE handler on loopback, the store as
// its log).
func (e *env) measureSSE(ctx context.Context, log io.Writer) (row, error) {
	var cases []sseCase
	techs := map[conversations.StaffID]conversations.Viewer{}
	for _, v := range e.technicians {
		if len(techs) == sseStreams {
			break
		}
		rows, err := e.base.Query(ctx, `SELECT t.id, t.contact_phone, t.business_number
FROM staff_thread_visibility v JOIN threads t ON t.tenant_id = v.tenant_id AND t.id = v.thread_id
WHERE v.tenant_id = $1 AND v.staff_id = $2 AND v.job_refs > 0 AND t.kind = 'customer' AND NOT t.archived
ORDER BY md5(t.id) LIMIT 5`, string(v.Tenant), string(v.Staff))
		if err != nil {
			return row{}, err
		}
		for rows.Next() {
			t := target{tenant: string(v.Tenant)}
			if err := rows.Scan(&t.thread, &t.phone, &t.number); err != nil {
				rows.Close()
				return row{}, err
			}
			cases = append(cases, sseCase{v: v.Viewer, t: t})
			techs[v.Staff] = v.Viewer
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return row{}, err
		}
	}
	if len(cases) == 0 {
		return row{}, errors.New("sse: no technician with an assigned thread")
	}

	// As the example server does: each event is checked against revocations
	// as it leaves.
	access, err := conversations.NewThreadAccess(e.db, policy.Default())
	if err != nil {
		return row{}, err
	}
	hub, err := inapp.New(inapp.Config{Log: e.db, Authenticate: benchAuth, Visibility: access})
	if err != nil {
		return row{}, err
	}
	defer hub.Close()
	st := &stamps{}
	st.reset(true)
	svc, stop, err := e.notifyingService(st, hub)
	if err != nil {
		return row{}, err
	}
	defer stop()
	wh, err := twilio.NewWebhooks(twilio.Config{AuthToken: twiliotest.AuthToken, PublicURL: publicURL}, svc)
	if err != nil {
		return row{}, err
	}
	mux := http.NewServeMux()
	mux.Handle("/stream", hub)
	mux.Handle("/sse/inbound", wh.Inbound())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024}}
	defer hc.CloseIdleConnections()
	client := &twiliotest.WebhookClient{Signer: twiliotest.Signer{AuthToken: twiliotest.AuthToken}, Target: srv.URL, HTTP: hc}

	// One stream per technician; each event's arrival is stamped by body.
	var arrivals sync.Map // body → time.Time
	streamCtx, stopStreams := context.WithCancel(ctx)
	var readers sync.WaitGroup
	defer func() { stopStreams(); readers.Wait() }()
	for _, v := range techs {
		body, br, err := openStream(streamCtx, hc, srv.URL+"/stream", v)
		if err != nil {
			return row{}, err
		}
		readers.Add(1)
		go func() {
			defer readers.Done()
			defer body.Close()
			arrived := make(chan arrival, 16)
			go func() {
				readEvents(br, v.Staff, arrived)
				close(arrived)
			}()
			for a := range arrived {
				arrivals.LoadOrStore(a.body, a.at)
			}
		}()
	}

	r := rand.New(rand.NewPCG(23, 29))
	n := max(e.cfg.latencyN*4, 50) // at 200/s: 500 webhooks → 10 s
	warm := n / 10
	sent := make([]time.Time, n)
	sids := make([]string, n)
	var (
		posts sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	tick := time.NewTicker(time.Second / sseRate)
	start := time.Now()
	for i := range n {
		<-tick.C
		c := cases[r.IntN(len(cases))]
		body := "bench-sse " + strconv.Itoa(i)
		posts.Add(1)
		go func() {
			defer posts.Done()
			sids[i] = twiliotest.NewSID("SM")
			sent[i] = time.Now()
			form := twiliotest.Inbound{MessageSID: sids[i], From: c.t.phone, To: c.t.number, Body: body}.Form()
			resp, err := client.Post(ctx, publicURL+"/sse/inbound", form, "")
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("sse: webhook answered %s", resp.Status)
				}
			}
			if err != nil {
				mu.Lock()
				first = cmp.Or(first, err)
				mu.Unlock()
			}
		}()
	}
	tick.Stop()
	posts.Wait()
	rateGot := float64(n) / time.Since(start).Seconds()
	if first != nil {
		return row{}, first
	}
	var lat, toNotifier, inNotifier, toStream []time.Duration
	missing := 0
	deadline := time.Now().Add(30 * time.Second)
	for i := warm; i < n; i++ {
		body := "bench-sse " + strconv.Itoa(i)
		for {
			if at, ok := arrivals.Load(body); ok {
				lat = append(lat, at.(time.Time).Sub(sent[i]))
				called, ok1 := st.at(sids[i])
				logged, ok2 := st.logged(sids[i])
				if ok1 && ok2 {
					toNotifier = append(toNotifier, called.Sub(sent[i]))
					inNotifier = append(inNotifier, logged.Sub(called))
					toStream = append(toStream, at.(time.Time).Sub(logged))
				}
				break
			}
			if time.Now().After(deadline) {
				missing++
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if len(lat) == 0 {
		return row{}, errors.New("sse: no event reached its stream")
	}
	rw := latencyRow(fmt.Sprintf("webhook to SSE event on the technician's stream, %d inbound/s, %d streams", sseRate, len(techs)), lat, nil)
	rw.note = fmt.Sprintf("%d webhooks (after %d of warm-up) posted at %.0f/s to threads the technician is assigned to; notify/inapp Hub, fan-out by the Service's loop, store as its log; no baseline; "+
		"split (p50/p99): webhook → Notifier called %s, Hub's NotifyBatch (log write) %s, logged → on the stream %s",
		len(lat), warm, rateGot, split(toNotifier), split(inNotifier), split(toStream))
	if missing > 0 {
		rw.note += fmt.Sprintf("; %d events never arrived within 30 s", missing)
	}
	fmt.Fprintf(log, "bench: %s\n", rw.text())
	return rw, nil
}

type arrival struct {
	staff conversations.StaffID
	body  string
	at    time.Time
}

// openStream opens a viewer's stream and reads it up to its ready event:
// from then on, everything logged for the viewer reaches it.
func openStream(ctx context.Context, hc *http.Client, url string, v conversations.Viewer) (io.Closer, *bufio.Reader, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set(viewerHeader, string(v.Tenant)+"|"+string(v.Staff)+"|"+string(v.Role))
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, nil, fmt.Errorf("sse: stream answered %s", resp.Status)
	}
	br := bufio.NewReader(resp.Body)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			resp.Body.Close()
			return nil, nil, fmt.Errorf("sse: open stream: %w", err)
		}
		if line == "event: "+inapp.EventReady+"\n" {
			return resp.Body, br, nil
		}
	}
}

// readEvents reports each message event of one stream as it arrives.
func readEvents(br *bufio.Reader, staff conversations.StaffID, out chan<- arrival) {
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		at := time.Now()
		var p notify.Payload
		if json.Unmarshal([]byte(data), &p) != nil || p.Message == nil {
			continue
		}
		out <- arrival{staff: staff, body: p.Message.Body, at: at}
	}
}

// split is "p50/p99" of ds, in milliseconds.
func split(ds []time.Duration) string {
	if len(ds) == 0 {
		return "—"
	}
	slices.Sort(ds)
	q := func(p float64) float64 { return float64(ds[int(p*float64(len(ds)-1))].Microseconds()) / 1000 }
	return fmt.Sprintf("%.1f/%.1f ms", q(0.50), q(0.99))
}
