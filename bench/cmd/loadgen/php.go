package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/pogo-websocket/pogo-websocket/bench/internal/report"
)

// phpAnswer is what php/publish.php reports of its loop.
type phpAnswer struct {
	Published int   `json:"published"` // calls that returned 0
	Failed    int   `json:"failed"`
	FirstCode int   `json:"first_code"` // return code of the first failed call
	ElapsedNs int64 `json:"elapsed_ns"` // the loop alone, hrtime
}

// runPHP measures native publishes from one PHP thread: for each count in
// -php-subs, that many clients subscribe to one channel, then one request to
// -php-path runs a loop of pogo_websocket_publish to it in PHP (n publishes,
// at most -php-publishes and -php-deliveries/subscribers) and reports the
// loop's time; every delivery is counted against published × subscribers.
func runPHP(ctx context.Context, cfg *config) error {
	type step struct {
		subs, n int
		ans     phpAnswer
		cpu     *cpuMeter
	}
	steps := make([]*step, len(cfg.phpSubs))
	rec := newRecorder(len(steps))
	api := newPublisher(cfg.addr, cfg.creds, 1, 0, cfg.tls)
	defer api.close()
	for si, subs := range cfg.phpSubs {
		channel := "php-" + strconv.Itoa(subs)
		f, st, err := connect(ctx, cfg.dialer, subs, cfg.dialConc, func(int) string { return channel })
		printConnect(cfg, st)
		if err != nil {
			return err
		}
		f.serve(rec.deliver)
		s := &step{subs: len(f.clients), n: max(min(cfg.phpPublishes, cfg.phpDeliveries/subs), 1)}
		steps[si] = s
		q := url.Values{"app": {cfg.creds.AppID}, "channel": {channel}, "n": {strconv.Itoa(s.n)},
			"step": {strconv.Itoa(si)}, "pad": {strconv.Itoa(cfg.payload)}}
		s.cpu = startCPU(cfg.server)
		body, err := api.getRaw(ctx, cfg.phpPath+"?"+q.Encode())
		if err == nil {
			err = json.Unmarshal(body, &s.ans)
		}
		if err != nil {
			f.close()
			return fmt.Errorf("php publish loop: %w (%.200s)", err, body)
		}
		rec.drain(ctx, int64(s.ans.Published)*int64(s.subs), cfg.drain)
		s.cpu.stop() // the loop and its deliveries
		f.close()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}

	fmt.Fprintf(cfg.out, "\n### PHP native publishes: one request, one PHP thread, a loop of pogo_websocket_publish (%s)\n\n", cfg.phpPath)
	t := report.NewTable(">subscribers", ">publishes", ">failed", ">loop time", ">publishes/s", ">deliveries",
		">delivered", ">latency p50", ">p99", ">until delivered", ">server CPU")
	for si, s := range steps {
		d := &rec.steps[si]
		el := time.Duration(s.ans.ElapsedNs)
		t.Row(report.Num(float64(s.subs)), report.Num(float64(s.ans.Published)), s.ans.Failed, report.Dur(el),
			report.Num(float64(s.ans.Published)/el.Seconds()), report.Num(float64(d.n.Load())),
			ratio(d.n.Load(), int64(s.ans.Published)*int64(s.subs)),
			report.Dur(d.latency.Quantile(0.5)), report.Dur(d.latency.Quantile(0.99)), report.Dur(s.cpu.wall), s.cpu.Server())
		if s.ans.Failed > 0 {
			defer fmt.Fprintf(cfg.out, "%d subscribers: %d publishes failed, first code %d\n", s.subs, s.ans.Failed, s.ans.FirstCode)
		}
	}
	t.Print(cfg.out)
	return nil
}
