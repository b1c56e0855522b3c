package host_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"

	"github.com/fieldtalk/fieldtalk/channel/twilio/twiliotest"
	"github.com/fieldtalk/fieldtalk/examples/server/host"
)

// metricName finds the metric names a document queries.
var metricName = regexp.MustCompile(`\b(fieldtalk|http_server|river|messaging)_[a-z_]+[a-z]`)

// scrape reads /metrics as Prometheus does.
func (r *running) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	b := r.call(t, "GET", host.MetricsPath, "", nil, http.StatusOK)
	p := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return mf
}

// sample returns the value of the series of family name whose labels
// include want (a histogram's count), and whether there is one.
func sample(mf map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f := mf[name]
	if f == nil {
		return 0, false
	}
	var sum float64
	found := false
next:
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		found = true
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum, found
}

// TestMetricsAfterASession scripts a session through the production
// server (signed Twilio webhooks, the API, the stream) and checks that
// /metrics counts exactly what happened, with the right labels.
func TestMetricsAfterASession(t *testing.T) {
	databases(t, func(t *testing.T, db database) {
		p := startProduction(t, db)
		d := p.demo
		tom, tara := d.Token("tom"), d.Token("tara")
		job := p.inbox(t, tom)[0].ID
		events := p.stream(t, tom)
		next(t, events, "ready")

		// One inbound SMS (posted twice: the repeat is not a second message).
		in := twiliotest.Inbound{MessageSID: twiliotest.NewSID("SM"), From: d.Customer.Phone, To: number, Body: "Hi, when will the tech get here?"}
		for range 2 {
			if code := p.twilioPost(t, host.TwilioInboundPath, in.Form(), "tok-m1"); code != http.StatusOK {
				t.Fatalf("inbound answered %d", code)
			}
		}
		next(t, events, "message")
		// Suggestions, once.
		ss := decodeAs[map[string][]suggestion](t, p.running, "GET", "/v1/threads/"+job+"/suggestions", tom, nil, http.StatusOK)["suggestions"]
		// One reply, sent and delivered through Twilio's callbacks.
		reply := decodeAs[message](t, p.running, "POST", "/v1/suggestions/"+ss[0].ID+"/use", tom, map[string]string{"client_id": "m/1"}, http.StatusAccepted)
		eventually(t, "the reply reaches Twilio", func() bool { return len(p.creates(reply.Body)) == 1 })
		// The attempt is counted once it has recorded Twilio's answer; a
		// callback before that would leave nothing for the answer to change.
		eventually(t, "the delivery attempt is counted", func() bool {
			n, _ := sample(p.scrape(t), "fieldtalk_delivery_attempts_total", map[string]string{"channel": "sms", "outcome": "done"})
			return n == 1
		})
		sent := p.creates(reply.Body)[0]
		callback := strings.TrimPrefix(sent.Form.Get("StatusCallback"), publicURL)
		for _, st := range []string{"sent", "delivered"} {
			form := twiliotest.Status{MessageSID: sent.SID, From: number, To: d.Customer.Phone, Status: st}.Form()
			if code := p.twilioPost(t, callback, form, ""); code != http.StatusOK {
				t.Fatalf("status %s answered %d", st, code)
			}
		}
		// The customer opts out.
		stop := twiliotest.Inbound{MessageSID: twiliotest.NewSID("SM"), From: d.Customer.Phone, To: number, Body: "STOP"}
		if code := p.twilioPost(t, host.TwilioInboundPath, stop.Form(), "tok-m2"); code != http.StatusOK {
			t.Fatalf("STOP answered %d", code)
		}
		// STOP's fan-out is a job committed with it: it is counted once
		// the job has run.
		eventually(t, "STOP's fan-out is counted", func() bool {
			n, _ := sample(p.scrape(t), "fieldtalk_notifications_total", map[string]string{"type": "message"})
			return n == 2
		})
		// Three inbox reads, one of them refused.
		p.inbox(t, tom)
		p.inbox(t, tara)
		p.expectError(t, "GET", "/v1/inbox", "", nil, http.StatusUnauthorized, "unauthenticated")

		// A job may become available between two scrapes (a status check
		// waking up, the status sweep): the depth is read once it is
		// drained.
		eventually(t, "the queue has nothing waiting", func() bool {
			n, _ := sample(p.scrape(t), "fieldtalk_queue_depth", map[string]string{"state": "available"})
			return n == 0
		})
		mf := p.scrape(t)
		for _, c := range []struct {
			name   string
			labels map[string]string
			want   float64
		}{
			{"fieldtalk_inbound_messages_total", map[string]string{"channel": "sms"}, 2}, // the text and STOP
			{"fieldtalk_opt_outs_total", map[string]string{"channel": "sms", "action": "opt_out", "keyword": "STOP"}, 1},
			{"fieldtalk_delivery_attempts_total", map[string]string{"channel": "sms", "outcome": "done"}, 1},
			{"fieldtalk_deliveries_total", map[string]string{"channel": "sms", "status": "sent"}, 1},
			{"fieldtalk_deliveries_total", map[string]string{"channel": "sms", "status": "delivered"}, 1},
			{"fieldtalk_delivery_duration_seconds", map[string]string{"channel": "sms", "status": "delivered"}, 1},
			{"fieldtalk_suggestion_duration_seconds", map[string]string{"source": "rules"}, 1},
			// Tom hears of his reply's sending, of Twilio's sid, of sent and of delivered.
			{"fieldtalk_notifications_total", map[string]string{"type": "status"}, 4},
			// He watches the job's thread (a dispatcher is told only her
			// badge of a thread somebody watches): both texts, the
			// question and STOP.
			{"fieldtalk_notifications_total", map[string]string{"type": "message"}, 2},
			{"fieldtalk_stream_connections", nil, 1},
			{"fieldtalk_queue_depth", map[string]string{"state": "available"}, 0},
			{"fieldtalk_queue_oldest_age_seconds", map[string]string{"state": "available"}, 0},
			{"http_server_request_duration_seconds", map[string]string{"http_route": "/v1/inbox", "http_request_method": "GET", "http_response_status_code": "200"}, 3},
			{"http_server_request_duration_seconds", map[string]string{"http_route": "/v1/inbox", "http_request_method": "GET", "http_response_status_code": "401"}, 1},
			{"http_server_request_duration_seconds", map[string]string{"http_route": host.TwilioInboundPath, "http_response_status_code": "200"}, 3},
			{"http_server_request_duration_seconds", map[string]string{"http_route": host.TwilioStatusPath, "http_response_status_code": "200"}, 2},
		} {
			got, ok := sample(mf, c.name, c.labels)
			if !ok || got != c.want {
				t.Errorf("%s%v = %v (present: %v), want %v", c.name, c.labels, got, ok, c.want)
			}
		}
		// River's own job metrics, in the messaging conventions.
		if _, ok := sample(mf, "messaging_process_duration_seconds", map[string]string{"messaging_system": "river"}); !ok {
			t.Errorf("no River job metrics (messaging_process_duration_seconds) in /metrics")
		}
		// Every metric the operations guide and the dashboard query exists.
		for _, doc := range []string{"../../../docs/OPERATIONS.md", "../../../docs/grafana-dashboard.json"} {
			b, err := os.ReadFile(doc)
			if err != nil {
				t.Fatal(err)
			}
			for _, at := range metricName.FindAllIndex(b, -1) {
				if (at[0] > 0 && b[at[0]-1] == '/') || (at[1] < len(b) && b[at[1]] == '=') {
					continue // a job kind (river.work/fieldtalk_deliver) or a label
				}
				name := string(b[at[0]:at[1]])
				family := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_count"), "_sum")
				if mf[family] == nil {
					t.Errorf("%s queries %s, which /metrics does not serve", doc, name)
				}
			}
		}
	})
}

// TestOneTracePerDelivery follows one SMS with an SDK tracer in memory:
// the request that accepted it, the Service's use case, the enqueue, the
// job that delivered it, the call to Twilio and Twilio's status callback
// share one trace id.
func TestOneTracePerDelivery(t *testing.T) {
	databases(t, func(t *testing.T, db database) {
		spans := tracetest.NewInMemoryExporter()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
		t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
		p := startProduction(t, db, fx.Decorate(func(trace.TracerProvider) trace.TracerProvider { return tp }))
		tom := p.demo.Token("tom")
		job := p.inbox(t, tom)[0].ID
		body := "On my way, about 20 minutes."
		p.call(t, "POST", "/v1/threads/"+job+"/messages", tom, map[string]string{"body": body, "client_id": "trace/1"}, http.StatusAccepted)
		eventually(t, "the text reaches Twilio", func() bool { return len(p.creates(body)) == 1 })
		// Twilio calls back the URL it was given, trace context and all.
		sent := p.creates(body)[0]
		callback := strings.TrimPrefix(sent.Form.Get("StatusCallback"), publicURL)
		form := twiliotest.Status{MessageSID: sent.SID, From: number, To: p.demo.Customer.Phone, Status: "delivered"}.Form()
		if code := p.twilioPost(t, callback, form, ""); code != http.StatusOK {
			t.Fatalf("status callback answered %d", code)
		}

		byName := func() map[string][]tracetest.SpanStub {
			out := map[string][]tracetest.SpanStub{}
			for _, s := range spans.GetSpans() {
				out[s.Name] = append(out[s.Name], s)
			}
			return out
		}
		want := []string{
			"POST /v1/threads/{thread}/messages", // otelhttp, the accepting request
			"conversations.SendSMS",
			"store.tx",
			"river.insert_many",
			"river.work/fieldtalk_deliver",
			"conversations.Deliver",
			"send sms",                  // the provider call
			"HTTP POST",                 // its HTTP request to Twilio (otelhttp transport)
			"conversations.ApplyStatus", // Twilio's status callback, in a request of its own
		}
		eventually(t, "the delivery's spans end", func() bool {
			got := byName()
			for _, n := range want {
				if len(got[n]) == 0 {
					return false
				}
			}
			return true
		})
		got := byName()
		root := got[want[0]][0]
		if root.Parent.IsValid() {
			t.Fatalf("the accepting request's span has a parent: %v", root.Parent)
		}
		for _, n := range want[1:] {
			found := false
			for _, s := range got[n] {
				found = found || s.SpanContext.TraceID() == root.SpanContext.TraceID()
			}
			if !found {
				var ids []string
				for _, s := range got[n] {
					ids = append(ids, s.SpanContext.TraceID().String())
				}
				t.Errorf("span %q is not in the accepting request's trace %s (its traces: %v)", n, root.SpanContext.TraceID(), ids)
			}
		}
		// The chain is parent to child, request to provider.
		parentOf := map[trace.SpanID]trace.SpanID{}
		for _, s := range spans.GetSpans() {
			parentOf[s.SpanContext.SpanID()] = s.Parent.SpanID()
		}
		call := got["send sms"][0]
		var chain []string
		for id := call.SpanContext.SpanID(); id.IsValid(); id = parentOf[id] {
			for _, s := range spans.GetSpans() {
				if s.SpanContext.SpanID() == id {
					chain = append(chain, s.Name)
				}
			}
		}
		if chain[len(chain)-1] != want[0] {
			t.Errorf("the provider call's ancestry is %s, want it to end at the accepting request", strings.Join(chain, " ← "))
		}
		t.Log(fmt.Sprint("provider call ← ", strings.Join(chain, " ← ")))
		// The callback's own request span links to the send it reports on.
		linked := false
		for _, s := range got["POST "+host.TwilioStatusPath] {
			for _, l := range s.Links {
				linked = linked || l.SpanContext.TraceID() == root.SpanContext.TraceID()
			}
		}
		if !linked {
			t.Errorf("the status callback's request span has no link to the delivery's trace")
		}
	})
}
