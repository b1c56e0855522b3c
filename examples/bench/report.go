package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// row is one line of the table: latencies (p50/p99 per side) or
// throughputs (per second, per side).
type row struct {
	op                     string
	throughput             bool
	ft50, ft99, b50, b99   time.Duration
	ftRate, baseRate       float64
	baseName, note         string
	ftSamples, baseSamples int
}

// percentile is the nearest-rank percentile p (0..100) of d.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func latencyRow(op string, ft, base []time.Duration) row {
	return row{op: op, ft50: percentile(ft, 50), ft99: percentile(ft, 99), b50: percentile(base, 50), b99: percentile(base, 99),
		ftSamples: len(ft), baseSamples: len(base)}
}

func ms(d time.Duration) string {
	if d == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

func rate(r float64) string {
	if r == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f/s", r)
}

// ratio is fieldtalk over baseline for latencies (lower is better) and
// fieldtalk's share of the baseline for throughputs (higher is better).
func (r row) ratio() string {
	if r.throughput {
		if r.baseRate == 0 {
			return "—"
		}
		return fmt.Sprintf("%.2f× of baseline", r.ftRate/r.baseRate)
	}
	if r.b50 == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f× (p99 %.2f×)", float64(r.ft50)/float64(r.b50), float64(r.ft99)/float64(r.b99))
}

func (r row) cells() []string {
	if r.throughput {
		return []string{r.op, rate(r.ftRate), "", rate(r.baseRate), "", r.ratio(), r.note}
	}
	return []string{r.op, ms(r.ft50), ms(r.ft99), ms(r.b50), ms(r.b99), r.ratio(), r.note}
}

func (r row) text() string {
	c := r.cells()
	if r.throughput {
		return fmt.Sprintf("%s: fieldtalk %s, baseline %s, %s", c[0], c[1], c[3], c[5])
	}
	return fmt.Sprintf("%s: fieldtalk p50 %s p99 %s, baseline p50 %s p99 %s, %s", c[0], c[1], c[2], c[3], c[4], c[5])
}

type report struct {
	title, server string
	rows          []row
}

// write prints the table as Markdown (readable as text too).
func (rep report) write(w io.Writer) {
	fmt.Fprintf(w, "Dataset: %s. Server: %s.\n\n", rep.title, rep.server)
	fmt.Fprintln(w, "| operation | fieldtalk p50 | fieldtalk p99 | baseline p50 | baseline p99 | ratio (fieldtalk / baseline) | baseline and runs |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, r := range rep.rows {
		c := r.cells()
		if r.baseName != "" {
			c[6] = strings.TrimSpace(r.baseName + "; " + c[6])
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(c, " | "))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Throughput rows give transactions per second in the p50 columns; their ratio is fieldtalk's share of the baseline.")
}
