package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pogo-websocket/pogo-websocket/bench/internal/pusher"
)

// node is one server under test.
type node struct {
	name     string
	wsURL    string // ws://addr/app/key?protocol=7...
	httpBase string // http://addr
	metrics  string // the admin API's /metrics URL
	pid      int
}

// api is the signed HTTP API client, and the admin /metrics scraper.
type api struct {
	client *http.Client
	creds  pusher.Credentials
}

func newAPI(creds pusher.Credentials) *api {
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	return &api{client: &http.Client{Transport: tr, Timeout: 10 * time.Second}, creds: creds}
}

func (a *api) do(ctx context.Context, method, url string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: HTTP %d %.200s", method, req.URL.Path, resp.StatusCode, b)
	}
	return b, nil
}

// publish sends one event through POST /apps/{id}/events.
func (a *api) publish(ctx context.Context, n *node, channel, event, data string) error {
	body := pusher.EventBody(event, []string{channel}, data)
	path := a.creds.EventsPath()
	q := a.creds.SignQuery(http.MethodPost, path, body, time.Now().Unix())
	_, err := a.do(ctx, http.MethodPost, n.httpBase+path+"?"+q, body)
	return err
}

// users returns the sorted member ids of a presence channel, from
// GET /apps/{id}/channels/{channel}/users.
func (a *api) users(ctx context.Context, n *node, channel string) ([]string, error) {
	path := a.creds.UsersPath(channel)
	q := a.creds.SignQuery(http.MethodGet, path, nil, time.Now().Unix())
	b, err := a.do(ctx, http.MethodGet, n.httpBase+path+"?"+q, nil)
	if err != nil {
		return nil, err
	}
	var r struct {
		Users []struct {
			ID string `json:"id"`
		} `json:"users"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	ids := make([]string, len(r.Users))
	for i, u := range r.Users {
		ids[i] = u.ID
	}
	slices.Sort(ids)
	return ids, nil
}

// scrape returns the unlabelled samples of the Prometheus text exposition
// at n.metrics whose names are in want.
func (a *api) scrape(ctx context.Context, n *node, want ...string) (map[string]float64, error) {
	b, err := a.do(ctx, http.MethodGet, n.metrics, nil)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for sc := bufio.NewScanner(bytes.NewReader(b)); sc.Scan(); {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || !slices.Contains(want, name) {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
			out[name] = v
		}
	}
	for _, w := range want {
		if _, ok := out[w]; !ok {
			return nil, fmt.Errorf("%s has no %s", n.metrics, w)
		}
	}
	return out, nil
}

// procRSS returns a process's resident set size (VmRSS) from /proc.
func procRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
}

// procFDs returns the number of open file descriptors of a process.
func procFDs(pid int) (int, error) {
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	return len(ents), err
}
