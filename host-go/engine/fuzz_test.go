package engine

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// FuzzEngine drives the real engine.wasm through its ABI. The fuzz input is a
// program: it picks, byte by byte, batches of OPEN, MESSAGE, CLOSED, HTTP,
// PUBLISH, REMOTE, AUTH_RESULT, TICK... built from the messages pusher-js,
// Laravel Echo and the Pusher SDKs send (signed where they are signed),
// mutated or replaced by raw bytes. The host's rules (assembly/README.md)
// are kept, so that every oracle failure is an engine defect. After every
// batch:
//
//   - no trap and no call over fuzzCallTimeout (a hang);
//   - every action decodes, frames are well-formed unmasked text or close
//     frames of valid JSON, sent only to open connections, each HTTP request
//     and publish answered exactly once;
//   - linear memory stays under fuzzMemoryLimit.
//
// After every fuzzProbeEvery-th batch and the program's last one, the
// registry must match the connections: a probe publish on every known
// channel reaches exactly the connections subscribed to it (as their
// subscription_succeeded frames and unsubscribes say), GET /channels lists
// exactly the occupied channels with their subscription counts, and presence
// rosters hold no user twice.
//
// Then every connection closes and every other node leaves, as a host does
// when all its clients go: the engine must be empty again (no subscription,
// no channel listed). That is what lets a fuzz worker keep its engine for
// fuzzRecycle programs instead of instantiating one per program, which costs
// more than running most programs; a state one program leaves behind that
// another could trip over is a leak, and fails the program that left it.
//
// The seed corpus is in testdata/fuzz/FuzzEngine plus the scenarios below;
// `make fuzz` runs it for FUZZTIME.
func FuzzEngine(f *testing.F) {
	for _, seed := range engineSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, program []byte) {
		h := fuzzWorkerHarness(t)
		defer h.done()
		h.run(program)
		h.empty()
	})
}

const (
	fuzzConns       = 6 // connection ids 1..fuzzConns
	fuzzNodes       = 3 // other nodes 1..fuzzNodes
	fuzzMaxBatches  = 10
	fuzzMaxEvents   = 12
	fuzzProbeEvery  = 4
	fuzzRelaysKept  = 16
	fuzzRecycle     = 4096 // programs per engine instance
	fuzzMemoryLimit = 64 << 20
	fuzzCallTimeout = 5 * time.Second
	fuzzProbeEvent  = "fuzz-probe"
	fuzzStart       = 1_700_000_000_000
	// fuzzQuiet is how far the clock moves after a program: past every
	// timeout and cache TTL of fuzzAppConfigs.
	fuzzQuiet = 2 * 3600 * 1000
)

// fuzzAppConfigs: app 0 has every optional behaviour on and small limits so
// that short programs reach them; app 1 has the defaults and an origin list.
var fuzzAppConfigs = []App{
	{ID: "101", Key: "fuzz-key-a", Secret: "fuzz-secret-a", Options: []AppOption{
		{OptionRelay, 1}, {OptionAuthFallback, 1}, {OptionSubscriptionCount, 1},
		{OptionMaxSubscriptions, 6}, {OptionMaxPresenceMembers, 3}, {OptionMaxPresenceUserInfo, 64},
		{OptionClientEventRate, 1000}, {OptionUserAuthTimeout, 30000}, {OptionCacheTTL, 10000},
		{OptionPingPeriod, 20000}, {OptionPongWait, 40000}, {OptionMaxMessageSize, 4096},
		{OptionMaxEventPayload, 512},
	}},
	{ID: "102", Key: "fuzz-key-b", Secret: "fuzz-secret-b", AllowedOrigins: []string{"*.example.com"}},
}

var (
	fuzzChannels = []string{
		"public-a", "b", "private-a", "private-b", "presence-a", "presence-b", "cache-a",
		"private-cache-a", "presence-cache-a", "private-encrypted-a", "#server-to-user-u1", "esc-a",
	}
	fuzzUsers  = []string{"u1", "u2", "7", `u"3`}
	fuzzEvents = []string{"App\\Events\\OrderShipped", "client-typing", "e", "pusher:ping", ""}
)

// fuzzTrace (FUZZ_TRACE=1) logs every batch and its actions, to read a failing input.
var fuzzTrace = os.Getenv("FUZZ_TRACE") != ""

// newFuzzEngine returns an engine as the hub runs it: the embedded module
// with its loop checks, every call bounded by fuzzCallTimeout.
func newFuzzEngine(t *testing.T) *Engine {
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	e.SetTimeout(fuzzCallTimeout)
	return e
}

// fuzzWorker is the engine a fuzz worker process keeps between programs
// (the fuzz function runs one program at a time in each worker).
var fuzzWorker struct {
	e        *Engine
	programs int
	now      uint64
	req      uint32
}

// fuzzWorkerHarness returns a harness on the worker's engine, configured
// with fuzzAppConfigs; a fresh instance every fuzzRecycle programs, and
// after any failure.
func fuzzWorkerHarness(t *testing.T) *fuzzHarness {
	w := &fuzzWorker
	if w.e != nil && w.programs >= fuzzRecycle {
		_ = w.e.Close()
		w.e = nil
	}
	fresh := w.e == nil
	if fresh {
		w.e, w.programs, w.now = newFuzzEngine(t), 0, fuzzStart
	}
	w.programs++
	h := &fuzzHarness{t: t, e: w.e, now: w.now, req: w.req}
	for i := range h.conns {
		h.conns[i].forget()
	}
	if fresh {
		h.begin()
		for i, app := range fuzzAppConfigs {
			if err := h.b.App(uint32(i), app); err != nil {
				t.Fatal(err)
			}
		}
		h.process("configure")
	}
	return h
}

// done hands the engine back to the worker, or drops it after a failure:
// its state is unknown.
func (h *fuzzHarness) done() {
	w := &fuzzWorker
	if h.t.Failed() || h.e.closed {
		_ = h.e.Close()
		w.e = nil
		return
	}
	w.now, w.req = h.now, h.req
}

// fuzzInput reads a program; past its end every read is 0.
type fuzzInput struct{ b []byte }

func (in *fuzzInput) done() bool { return len(in.b) == 0 }

func (in *fuzzInput) byte() byte {
	if len(in.b) == 0 {
		return 0
	}
	c := in.b[0]
	in.b = in.b[1:]
	return c
}

func (in *fuzzInput) intn(n int) int { return int(in.byte()) % n }

func (in *fuzzInput) u16() int { return int(in.byte()) | int(in.byte())<<8 }

// bytes takes up to max bytes, its length first.
func (in *fuzzInput) bytes(max int) []byte {
	n := min(int(in.byte())%(max+1), len(in.b))
	p := in.b[:n]
	in.b = in.b[n:]
	return p
}

type fuzzConn struct {
	open         bool // OPEN sent, CLOSED not yet
	closedNow    bool // CLOSED in the current batch
	engineClosed bool // the engine refused or closed it (it still gets CLOSED)
	app          int
	socketID     string
	dirty        bool            // sent something whose effect on its subscriptions is unknown
	sure         map[string]bool // channels it is known to be subscribed to
	maybe        map[string]bool // channels it may be subscribed to (sure included)
}

func (c *fuzzConn) forget() {
	c.sure, c.maybe, c.socketID = map[string]bool{}, map[string]bool{}, ""
}

type fuzzHarness struct {
	t     *testing.T
	e     *Engine
	b     Batch
	now   uint64
	conns [fuzzConns + 1]fuzzConn
	req   uint32
	// Per batch: HTTP requests and publishes awaiting their answer, and
	// connections that received a close.
	httpWait map[uint32]bool
	publish  int
	closedBy map[uint32]bool
	// Relay records the engine produced, replayed as REMOTE input.
	relays       [][]byte
	relaysSeen   int
	remoteCounts bool // a REMOTE record may have set subscriptions on other nodes
	batches      int
}

func (h *fuzzHarness) run(program []byte) {
	in := &fuzzInput{b: program}
	for h.batches = 0; h.batches < fuzzMaxBatches && !in.done(); h.batches++ {
		h.begin()
		h.now += uint64(in.u16())
		h.b.SetNow(h.now)
		for n := 1 + in.intn(fuzzMaxEvents); n > 0; n-- {
			h.event(in)
		}
		h.process("batch")
		if h.batches%fuzzProbeEvery == fuzzProbeEvery-1 || in.done() || h.batches == fuzzMaxBatches-1 {
			h.probe()
		}
	}
}

// empty closes every connection and makes every other node leave, lets the
// clock pass every timeout, and checks that the engine holds nothing: no
// subscription, no channel listed in any app.
func (h *fuzzHarness) empty() {
	h.begin()
	for id := uint32(1); id <= fuzzConns; id++ {
		if h.conns[id].open {
			h.b.Closed(id)
			h.conns[id].open, h.conns[id].closedNow = false, true
		}
	}
	for node := uint32(1); node <= fuzzNodes; node++ {
		h.b.NodeGone(node)
	}
	h.process("close all")
	h.begin()
	h.now += fuzzQuiet
	h.b.SetNow(h.now)
	h.b.Tick()
	h.process("quiet tick")
	if n := h.e.Subscriptions(); n != 0 {
		h.t.Fatalf("every connection closed, but the engine still holds %d subscriptions", n)
	}
	for _, cfg := range fuzzAppConfigs {
		if body := h.query(cfg, "/channels", ""); !bytes.Equal(body, []byte(`{"channels":{}}`)) {
			h.t.Fatalf("every connection closed and every node gone, but app %s lists %s", cfg.ID, body)
		}
	}
}

func (h *fuzzHarness) begin() {
	h.b.Reset()
	h.b.SetNow(h.now)
	if h.httpWait == nil {
		h.httpWait, h.closedBy = map[uint32]bool{}, map[uint32]bool{}
	}
	clear(h.httpWait)
	clear(h.closedBy)
	h.publish = 0
	for i := range h.conns {
		h.conns[i].closedNow = false
	}
}

// event appends one event chosen by the program.
func (h *fuzzHarness) event(in *fuzzInput) {
	switch in.intn(16) {
	case 0, 1:
		h.open(in)
	case 2, 3, 4, 5, 6:
		h.message(in)
	case 7:
		if c := h.pick(in); c != 0 {
			h.b.Closed(c)
			h.conns[c].open, h.conns[c].closedNow = false, true
		}
	case 8, 9:
		h.http(in)
	case 10:
		h.nativePublish(in)
	case 11:
		h.remote(in)
	case 12:
		if in.intn(4) == 0 {
			h.now += 45_000 // past the ping period, towards the pong wait
			h.b.SetNow(h.now)
		}
		h.b.Tick()
	case 13:
		if c := h.pick(in); c != 0 {
			if in.intn(2) == 0 {
				h.b.Activity(c)
			} else {
				h.b.TooLarge(c, uint32(in.u16())<<8)
			}
		}
	case 14:
		h.authResult(in)
	case 15:
		switch in.intn(8) {
		case 0:
			h.b.Shutdown()
		case 1:
			h.b.Sync()
		case 2, 3:
			// Its Digest records, replayed, bring Want records, and those State records.
			h.b.Digest()
		default:
			h.b.NodeGone(uint32(1 + in.intn(fuzzNodes)))
		}
	}
}

// pick returns an open connection (0: none), from a position the program chooses.
func (h *fuzzHarness) pick(in *fuzzInput) uint32 {
	start := in.intn(fuzzConns)
	for i := range fuzzConns {
		c := uint32(1 + (start+i)%fuzzConns)
		if h.conns[c].open {
			return c
		}
	}
	return 0
}

func (h *fuzzHarness) open(in *fuzzInput) {
	id := uint32(1 + in.intn(fuzzConns))
	c := &h.conns[id]
	if c.open || c.closedNow {
		return // the host reuses an id only after its CLOSED was processed
	}
	app := in.intn(3)
	key := "no-such-key"
	if app < len(fuzzAppConfigs) {
		key = fuzzAppConfigs[app].Key
	} else if in.intn(2) == 0 {
		key = string(in.bytes(40))
	}
	origin := [...]string{"", "https://app.example.com", "https://evil.test", "null"}[in.intn(4)]
	query := "protocol=7&client=js&version=8.4.0&flash=false"
	switch in.intn(8) {
	case 0:
		query = [...]string{"", "protocol=99", "protocol=6", "client=js", "protocol=&x", "protocol=7&protocol=8"}[in.intn(6)]
	case 1:
		query = string(in.bytes(64))
	}
	h.b.Open(id, key, origin, query)
	*c = fuzzConn{open: true, app: min(app, len(fuzzAppConfigs)-1)}
	c.forget()
}

// channel picks a channel name: one of the pool, or bytes of the program.
func (h *fuzzHarness) channel(in *fuzzInput) string {
	if i := in.intn(len(fuzzChannels) + 1); i < len(fuzzChannels) {
		return fuzzChannels[i]
	}
	return string(in.bytes(24))
}

// userID returns a user id as JSON: a string, or a number.
func userID(in *fuzzInput) string {
	u := fuzzUsers[in.intn(len(fuzzUsers))]
	if _, err := strconv.Atoi(u); err == nil {
		return u
	}
	return quote(u)
}

func quote(s string) string {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			b, _ := json.Marshal(s)
			return string(b)
		}
	}
	return `"` + s + `"` // printable ASCII needs no escape
}

// escapeAll writes every character of a string as a \u escape (at least
// four hex digits, as %04x would: a rune past U+FFFF makes invalid JSON).
func escapeAll(s string) string {
	b := []byte{'"'}
	for _, r := range s {
		digits := strconv.FormatInt(int64(r), 16)
		b = append(b, `\u000`[:6-min(len(digits), 4)]...)
		b = append(b, digits...)
	}
	return string(append(b, '"'))
}

func sign(secret, s string) string {
	m := macs.get(secret)
	defer macs.put(secret, m)
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil))
}

// macs keeps keyed HMAC-SHA256s for reuse: a fuzz worker signs several
// messages per program, and keying an HMAC costs more than hashing one.
var macs = macPool{free: map[string][]hash.Hash{}}

type macPool struct {
	sync.Mutex
	free map[string][]hash.Hash // by secret, reset
}

func (p *macPool) get(secret string) hash.Hash {
	p.Lock()
	defer p.Unlock()
	if l := p.free[secret]; len(l) > 0 {
		p.free[secret] = l[:len(l)-1]
		return l[len(l)-1]
	}
	return hmac.New(sha256.New, []byte(secret))
}

func (p *macPool) put(secret string, m hash.Hash) {
	m.Reset()
	p.Lock()
	defer p.Unlock()
	p.free[secret] = append(p.free[secret], m)
}

func (h *fuzzHarness) auth(app int, s string) string {
	a := fuzzAppConfigs[app]
	return a.Key + ":" + sign(a.Secret, s)
}

// channelData returns presence channel_data as JSON text.
func channelData(in *fuzzInput) string {
	info := [...]string{`{"name":"Ada"}`, `{}`, `null`, `{"name":"` + strings.Repeat("x", 80) + `"}`, `[1,2]`}[in.intn(5)]
	return `{"user_id":` + userID(in) + `,"user_info":` + info + `}`
}

// message appends a MESSAGE from an open connection.
func (h *fuzzHarness) message(in *fuzzInput) {
	id := h.pick(in)
	if id == 0 {
		h.open(in)
		return
	}
	c := &h.conns[id]
	ch := h.channel(in)
	var msg string
	switch in.intn(15) {
	case 0:
		msg = `{"event":"pusher:ping","data":{}}`
	case 1:
		msg = `{"event":"pusher:subscribe","data":{"auth":"","channel":` + quote(ch) + `}}`
	case 2, 3:
		if strings.HasPrefix(ch, "presence-") {
			cd := channelData(in)
			msg = `{"event":"pusher:subscribe","data":{"auth":` + quote(h.auth(c.app, c.socketID+":"+ch+":"+cd)) +
				`,"channel_data":` + quote(cd) + `,"channel":` + quote(ch) + `}}`
		} else {
			msg = `{"event":"pusher:subscribe","data":{"auth":` + quote(h.auth(c.app, c.socketID+":"+ch)) + `,"channel":` + quote(ch) + `}}`
		}
	case 4:
		msg = `{"event":"pusher:unsubscribe","data":{"channel":` + quote(ch) + `}}`
		c.dirty = true
	case 5:
		msg = `{"event":"client-typing","channel":` + quote(ch) + `,"data":{"id":1,"text":` + quote(string(in.bytes(16))) + `}}`
	case 6:
		ud := `{"id":` + quote(fuzzUsers[in.intn(len(fuzzUsers))]) + `,"user_info":{"n":1},"watchlist":["u1","u2"]}`
		msg = `{"event":"pusher:signin","data":{"auth":` + quote(h.auth(c.app, c.socketID+"::user::"+ud)) + `,"user_data":` + quote(ud) + `}}`
	case 7:
		msg = `{"event":"pusher:subscribe","data":{"auth":"` + fuzzAppConfigs[c.app].Key + `:00","channel":` + quote(ch) + `}}`
	case 8:
		msg = `{"ev\u0065nt":"pusher\u003asubscribe","data":{"channel":` + escapeAll(ch) + `}}`
	case 9:
		msg = string(in.bytes(200))
		c.dirty = true
	case 10:
		k := in.intn(64)
		msg = `{"event":"pusher:ping","data":` + strings.Repeat("[", k) + strings.Repeat("]", k) + `}`
	case 11:
		msg = `{"event":"pusher:subscribe","data":{"channel":` + quote(ch) + `}}` // auth fallback asks the host
	case 12:
		msg = `{"event":"pusher:pong","data":{}}`
	case 13:
		msg = `{"event":"client-x","channel":` + quote(ch) + `,"data":[` + strings.TrimSuffix(strings.Repeat("1,", 1+in.intn(200)), ",") + `]}`
	case 14:
		msg = `{"event":"pusher:subscribe","data":{"channel":` + quote(ch) + `,"auth":"","channel_data":"{\"user_id\":\"u\u0000\"}"}}`
	}
	b := []byte(msg)
	if in.intn(8) >= 5 {
		b = mutate(in, b)
		c.dirty = true
	}
	if !utf8.Valid(b) {
		// The host hands over text messages only once it checked their UTF-8.
		b = []byte(strings.ToValidUTF8(string(b), "\uFFFD"))
	}
	h.b.Message(id, b)
}

// mutate applies up to four edits the program chooses.
func mutate(in *fuzzInput, b []byte) []byte {
	for n := 1 + in.intn(4); n > 0 && len(b) > 0; n-- {
		pos := in.u16() % len(b)
		switch in.intn(6) {
		case 0:
			b[pos] ^= 1 << in.intn(8)
		case 1:
			b = append(b[:pos], b[pos+1:]...)
		case 2:
			b = append(b[:pos], append([]byte{in.byte()}, b[pos:]...)...)
		case 3:
			esc := fmt.Sprintf(`\u%04x`, b[pos])
			b = append(b[:pos], append([]byte(esc), b[pos+1:]...)...)
		case 4:
			b = b[:pos]
		case 5:
			end := min(len(b), pos+in.intn(32))
			b = append(b[:end], append(append([]byte(nil), b[pos:end]...), b[end:]...)...)
		}
	}
	return b
}

// http appends a signed (mostly) HTTP API request.
func (h *fuzzHarness) http(in *fuzzInput) {
	app := in.intn(len(fuzzAppConfigs))
	a := fuzzAppConfigs[app]
	appID := a.ID
	if in.intn(16) == 0 {
		appID = "999"
	}
	ch := h.channel(in)
	var method, route, body string
	params := map[string]string{}
	sid := ""
	if c := h.pick(in); c != 0 && h.conns[c].socketID != "" {
		sid = `,"socket_id":` + quote(h.conns[c].socketID)
	}
	switch in.intn(11) {
	case 0, 1:
		method, route = "POST", "/events"
		body = `{"name":` + quote(fuzzEvents[in.intn(len(fuzzEvents))]) + `,"channel":` + quote(ch) + `,"data":` + quote(`{"order":`+strconv.Itoa(in.u16())+`}`) + sid + `}`
	case 2:
		method, route = "POST", "/events"
		body = `{"name":"e","channels":[` + quote(ch) + `,` + quote(h.channel(in)) + `],"data":"d","info":"user_count,subscription_count"` + sid + `}`
	case 3:
		method, route = "POST", "/batch_events"
		body = `{"batch":[{"name":"a","channel":` + quote(ch) + `,"data":"1"},{"name":"b","channel":` + escapeAll(h.channel(in)) + `,"data":"2","info":"subscription_count"}]}`
	case 4:
		method, route = "GET", "/channels"
		if in.intn(2) == 0 {
			params["filter_by_prefix"] = "presence-"
			params["info"] = "user_count"
		}
	case 5:
		method, route = "GET", "/channels/"+url.PathEscape(ch)
		params["info"] = [...]string{"subscription_count", "user_count", "cache", "subscription_count,user_count,cache"}[in.intn(4)]
	case 6:
		method, route = "GET", "/channels/"+url.PathEscape(ch)+"/users"
	case 7:
		method, route = "POST", "/users/"+url.PathEscape(fuzzUsers[in.intn(len(fuzzUsers))])+"/terminate_connections"
		body = "{}"
	case 8:
		method, route = "GET", "/connections"
	case 9:
		method, route = [...]string{"POST", "GET", "DELETE", ""}[in.intn(4)], string(in.bytes(40))
		body = string(in.bytes(64))
	case 10:
		method, route, body = "POST", "/users/terminate_connections", "{}"
	}
	if in.intn(8) == 0 {
		body = string(mutate(in, []byte(body)))
	}
	path := "/apps/" + appID + route
	ts := int64(h.now / 1000)
	switch in.intn(16) {
	case 0:
		ts -= 601
	case 1:
		ts += 700
	}
	params["auth_key"] = a.Key
	params["auth_timestamp"] = strconv.FormatInt(ts, 10)
	params["auth_version"] = "1.0"
	if body != "" {
		sum := md5.Sum([]byte(body))
		params["body_md5"] = hex.EncodeToString(sum[:])
	}
	query := signedQuery(method, path, params, a.Secret)
	switch in.intn(16) {
	case 0:
		query = strings.Replace(query, "auth_signature=", "auth_signature=0", 1)
	case 1:
		query = string(in.bytes(80))
	}
	h.req++
	if err := h.b.HTTP(h.req, method, path, query, []byte(body)); err != nil {
		h.t.Fatal(err)
	}
	h.httpWait[h.req] = false
}

// signedQuery is the Pusher HTTP API signature: keys sorted, values raw.
func signedQuery(method, path string, params map[string]string, secret string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pairs := make([]string, len(keys))
	for i, k := range keys {
		pairs[i] = k + "=" + params[k]
	}
	return withSignature(method, path, strings.Join(pairs, "&"), secret)
}

// withSignature appends auth_signature to q, a query already in key order.
func withSignature(method, path, q, secret string) string {
	return q + "&auth_signature=" + sign(secret, method+"\n"+path+"\n"+q)
}

func (h *fuzzHarness) nativePublish(in *fuzzInput) {
	appID := fuzzAppConfigs[in.intn(len(fuzzAppConfigs))].ID
	channels := `[` + quote(h.channel(in)) + `]`
	switch in.intn(6) {
	case 0:
		channels = `[` + quote(h.channel(in)) + `,` + escapeAll(h.channel(in)) + `]`
	case 1:
		channels = string(in.bytes(48))
	}
	sid := ""
	if c := h.pick(in); c != 0 && in.intn(2) == 0 {
		sid = h.conns[c].socketID
	}
	event := fuzzEvents[in.intn(len(fuzzEvents))]
	if err := h.b.Publish(appID, []byte(channels), []byte(event), in.bytes(64), []byte(sid)); err != nil {
		h.t.Fatal(err)
	}
	h.publish++
}

// remote appends a relay record from another node: one the engine produced,
// one built here, or bytes of the program.
func (h *fuzzHarness) remote(in *fuzzInput) {
	node := uint32(1 + in.intn(fuzzNodes))
	app := fuzzAppConfigs[in.intn(len(fuzzAppConfigs))].ID
	var r []byte
	str := func(s string) { r = binary.LittleEndian.AppendUint16(r, uint16(len(s))); r = append(r, s...) }
	switch in.intn(8) {
	case 0:
		r = append(r, 1)
		str(app)
		ch := h.channel(in)
		str(ch)
		str("")
		r = append(r, byte(in.intn(2)))
		r = append(r, `{"event":"e","channel":`+quote(ch)+`,"data":"{\"x\":1}"}`...)
	case 1: // terminate, user online, user offline
		r = append(r, []byte{2, 9, 10}[in.intn(3)])
		str(app)
		str(fuzzUsers[in.intn(len(fuzzUsers))])
	case 2, 3:
		r = append(r, byte(3+in.intn(2)))
		str(app)
		str("presence-" + string(rune('a'+in.intn(2))))
		u := fuzzUsers[in.intn(len(fuzzUsers))]
		str(u)
		if r[0] == 3 {
			str(quote(u))
			r = append(r, `{"name":"remote"}`...)
		}
	case 4:
		r = append(r, 5)
		str(app)
		str(h.channel(in))
		r = binary.LittleEndian.AppendUint32(r, uint32(in.intn(4)))
	case 5:
		if len(h.relays) > 0 {
			r = append(r, h.relays[in.intn(len(h.relays))]...)
		}
	default:
		r = append(r, in.bytes(64)...)
	}
	if in.intn(8) == 0 {
		r = mutate(in, r)
	}
	if len(r) > 0 && (r[0] == 5 || r[0] == 8) { // subscription counts on another node
		h.remoteCounts = true
	}
	h.b.Remote(node, r)
}

func (h *fuzzHarness) authResult(in *fuzzInput) {
	id := h.pick(in)
	if id == 0 {
		return
	}
	c := &h.conns[id]
	ch := h.channel(in)
	status := [...]uint16{200, 200, 200, 403, 503, 504, 0}[in.intn(7)]
	var body []byte
	if status == 200 {
		if strings.HasPrefix(ch, "presence-") {
			cd := channelData(in)
			body = []byte(`{"auth":` + quote(h.auth(c.app, c.socketID+":"+ch+":"+cd)) + `,"channel_data":` + quote(cd) + `}`)
		} else {
			body = []byte(`{"auth":` + quote(h.auth(c.app, c.socketID+":"+ch)) + `}`)
		}
		if in.intn(4) == 0 {
			body = mutate(in, body)
			c.dirty = true
		}
	}
	if err := h.b.AuthResult(id, ch, status, body); err != nil {
		h.t.Fatal(err)
	}
}

// process runs the batch and checks every action.
func (h *fuzzHarness) process(what string) []byte {
	if fuzzTrace {
		h.t.Logf("%s %d events: %q", what, h.batches, h.b.Bytes()[BatchHeaderSize:])
	}
	out, err := h.e.Process(h.b.Bytes())
	if fuzzTrace {
		h.t.Logf("actions: %q", out)
	}
	if err != nil {
		h.t.Fatalf("%s %d: engine failed (trap or hang): %v", what, h.batches, err)
	}
	if m := h.e.MemorySize(); m > fuzzMemoryLimit {
		h.t.Fatalf("%s %d: engine memory %d bytes, over %d", what, h.batches, m, fuzzMemoryLimit)
	}
	h.checkActions(out)
	return out
}

// pusherFrame is what the oracle reads of a frame the engine sends.
type pusherFrame struct {
	Event   string          `json:"event"`
	Channel *string         `json:"channel"`
	Data    json.RawMessage `json:"data"`
}

// checkActions decodes and checks every action, and updates the model of
// each connection's subscriptions from what the engine told it.
func (h *fuzzHarness) checkActions(out []byte) {
	t := h.t
	succeeded := map[uint32][]string{}
	// frameTo checks that an action for conn may be sent: what names it,
	// with frame's start when it has one.
	frameTo := func(conn uint32, what string, frame []byte) {
		if conn == 0 || conn > fuzzConns || (!h.conns[conn].open && !h.conns[conn].closedNow) {
			t.Fatalf("%s %q to connection %d, which is not open", what, frame[:min(len(frame), 120)], conn)
		}
		if h.closedBy[conn] || h.conns[conn].engineClosed {
			t.Fatalf("%s %q to connection %d after the engine closed it", what, frame[:min(len(frame), 120)], conn)
		}
	}
	for a := NewActions(out); ; {
		if !a.Next() {
			if err := a.Err(); err != nil {
				t.Fatalf("action batch: %v", err)
			}
			break
		}
		switch a.Kind() {
		case ActionSend:
			frameTo(a.ID(), "SEND", a.Payload())
			f := checkTextFrame(t, a.Payload())
			if f.Event == "pusher:connection_established" {
				var d struct {
					SocketID string `json:"socket_id"`
				}
				var s string
				if json.Unmarshal(f.Data, &s) != nil || json.Unmarshal([]byte(s), &d) != nil || d.SocketID == "" {
					t.Fatalf("handshake %s", a.Payload())
				}
				h.conns[a.ID()].socketID = d.SocketID
			}
			if f.Event == "pusher_internal:subscription_succeeded" {
				if f.Channel == nil {
					t.Fatalf("subscription_succeeded without channel: %s", a.Payload())
				}
				succeeded[a.ID()] = append(succeeded[a.ID()], *f.Channel)
			}
		case ActionBroadcast:
			frame, conns, err := a.Broadcast()
			if err != nil {
				t.Fatal(err)
			}
			checkTextFrame(t, frame)
			seen := map[uint32]bool{}
			for i := range conns.Len() {
				c := conns.At(i)
				if seen[c] {
					t.Fatalf("broadcast lists connection %d twice", c)
				}
				seen[c] = true
				frameTo(c, "BROADCAST", frame)
			}
		case ActionClose:
			frameTo(a.ID(), "CLOSE", a.Payload())
			checkCloseFrame(t, a.Payload())
			h.closedBy[a.ID()] = true
		case ActionHTTPResponse:
			answered, ok := h.httpWait[a.ID()]
			if !ok || answered {
				t.Fatalf("HTTP response for request %d, which is not awaiting one", a.ID())
			}
			h.httpWait[a.ID()] = true
			status, body, err := a.HTTPResponse()
			if err != nil {
				t.Fatal(err)
			}
			switch status {
			case 200, 400, 401, 404, 405, 413:
			default:
				t.Fatalf("HTTP status %d", status)
			}
			if !json.Valid(body) {
				t.Fatalf("HTTP body is not JSON: %q", body)
			}
		case ActionPublishResult:
			code, err := a.PublishResult()
			if err != nil {
				t.Fatal(err)
			}
			if code > 9 {
				t.Fatalf("publish result %d", code)
			}
			h.publish--
		case ActionAuthRequest:
			frameTo(a.ID(), "AUTH_REQUEST", nil)
			if _, _, err := a.AuthRequest(); err != nil {
				t.Fatal(err)
			}
		case ActionRelay:
			appID, record, err := a.Relay()
			if err != nil {
				t.Fatal(err)
			}
			if string(appID) != fuzzAppConfigs[0].ID {
				t.Fatalf("relay for app %q, which does not relay", appID)
			}
			// The last fuzzRelaysKept, so that the answers to late records are replayed too.
			if len(h.relays) < fuzzRelaysKept {
				h.relays = append(h.relays, bytes.Clone(record))
			} else {
				h.relays[h.relaysSeen%fuzzRelaysKept] = bytes.Clone(record)
			}
			h.relaysSeen++
		default:
			t.Fatalf("unknown action kind %d", a.Kind())
		}
	}
	for id, answered := range h.httpWait {
		if !answered {
			t.Fatalf("HTTP request %d got no response", id)
		}
	}
	if h.publish != 0 {
		t.Fatalf("%d publishes without exactly one result", h.publish)
	}
	for id := uint32(1); id <= fuzzConns; id++ {
		c := &h.conns[id]
		switch {
		case c.closedNow || h.closedBy[id]:
			c.engineClosed = c.engineClosed || h.closedBy[id]
			c.forget()
		case c.dirty:
			// Subscribed or not, the probe tells.
			for ch := range c.sure {
				c.maybe[ch] = true
			}
			c.sure = map[string]bool{}
			for _, ch := range succeeded[id] {
				c.maybe[ch] = true
			}
		default:
			for _, ch := range succeeded[id] {
				c.sure[ch], c.maybe[ch] = true, true
			}
		}
		c.dirty = false
	}
}

// checkTextFrame checks one complete, unmasked, final text frame of valid
// UTF-8 JSON, and returns what the oracle reads of it.
func checkTextFrame(t *testing.T, frame []byte) pusherFrame {
	r := bytes.NewReader(frame)
	hd, err := ws.ReadHeader(r)
	if err != nil {
		t.Fatalf("frame header: %v (% x)", err, frame[:min(len(frame), 16)])
	}
	payload := frame[len(frame)-r.Len():]
	if !hd.Fin || hd.OpCode != ws.OpText || hd.Masked || hd.Rsv != 0 || hd.Length != int64(len(payload)) {
		t.Fatalf("frame header %+v for a payload of %d bytes", hd, len(payload))
	}
	// json.Valid reads invalid UTF-8 as U+FFFD.
	if !utf8.Valid(payload) || !json.Valid(payload) {
		t.Fatalf("frame payload is not UTF-8 JSON: %q", payload)
	}
	f, ok := readPusherFrame(payload)
	if !ok || f.Event == "" {
		t.Fatalf("frame payload is not a Pusher event: %q", payload)
	}
	return f
}

// readPusherFrame reads event, channel and data from valid JSON as
// pusher-js does: like json.Unmarshal into a pusherFrame (the last of
// repeated members wins), but names match exactly, without case folding. It
// costs a fraction of json.Unmarshal, and the oracle reads every frame.
func readPusherFrame(valid []byte) (f pusherFrame, ok bool) {
	i := skipJSONSpace(valid, 0)
	if valid[i] != '{' {
		return f, false
	}
	for i = skipJSONSpace(valid, i+1); valid[i] != '}'; {
		k := i
		i = skipJSONValue(valid, i)
		key := valid[k:i]
		i = skipJSONSpace(valid, skipJSONSpace(valid, i)+1) // past ':'
		v := i
		i = skipJSONValue(valid, i)
		value := valid[v:i]
		switch jsonString(key) {
		case "event":
			if value[0] != '"' {
				return f, false
			}
			f.Event = jsonString(value)
		case "channel":
			if value[0] != '"' && string(value) != "null" {
				return f, false
			}
			f.Channel = nil
			if value[0] == '"' {
				ch := jsonString(value)
				f.Channel = &ch
			}
		case "data":
			f.Data = value
		}
		if i = skipJSONSpace(valid, i); valid[i] == ',' {
			i = skipJSONSpace(valid, i+1)
		}
	}
	return f, true
}

// jsonString decodes a valid JSON string.
func jsonString(quoted []byte) string {
	if bytes.IndexByte(quoted, '\\') < 0 {
		return string(quoted[1 : len(quoted)-1])
	}
	var s string
	_ = json.Unmarshal(quoted, &s)
	return s
}

func skipJSONSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipJSONValue returns the end of the valid JSON value that starts at i.
func skipJSONValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		for i++; b[i] != '"'; i++ {
			if b[i] == '\\' {
				i++
			}
		}
		return i + 1
	case '{', '[':
		for depth := 0; ; {
			switch b[i] {
			case '"':
				i = skipJSONValue(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
	default: // number, true, false, null
		for i < len(b) && bytes.IndexByte([]byte(",}] \t\r\n"), b[i]) < 0 {
			i++
		}
		return i
	}
}

func checkCloseFrame(t *testing.T, frame []byte) {
	r := bytes.NewReader(frame)
	hd, err := ws.ReadHeader(r)
	if err != nil {
		t.Fatalf("close frame header: %v", err)
	}
	payload := frame[len(frame)-r.Len():]
	if !hd.Fin || hd.OpCode != ws.OpClose || hd.Masked || hd.Length != int64(len(payload)) || len(payload) < 2 || len(payload) > 125 {
		t.Fatalf("close frame %+v, payload % x", hd, payload)
	}
	code := binary.BigEndian.Uint16(payload)
	if (code < 4000 || code > 4999) && code != 1000 && code != 1001 {
		t.Fatalf("close code %d", code)
	}
	if !utf8.Valid(payload[2:]) {
		t.Fatalf("close reason is not UTF-8: %q", payload[2:])
	}
}

// probe checks the registry against the connections, app by app: a probe
// event on every known channel must reach exactly its subscribers.
func (h *fuzzHarness) probe() {
	t := h.t
	for app, cfg := range fuzzAppConfigs {
		// Channels anyone may be subscribed to, and those the engine lists.
		known := map[string]bool{}
		for id := 1; id <= fuzzConns; id++ {
			if c := &h.conns[id]; c.open && c.app == app {
				for ch := range c.maybe {
					known[ch] = true
				}
			}
		}
		listed := h.query(cfg, "/channels", "")
		var list struct {
			Channels map[string]json.RawMessage `json:"channels"`
		}
		if err := json.Unmarshal(listed, &list); err != nil {
			t.Fatalf("GET /channels: %s", listed)
		}
		for ch := range list.Channels {
			known[ch] = true
		}
		names := make([]string, 0, len(known))
		for ch := range known {
			if !strings.HasPrefix(ch, "#") {
				names = append(names, ch)
			}
		}
		if len(names) == 0 {
			continue
		}
		sort.Strings(names)
		got := h.probeChannels(cfg, names)
		for _, ch := range names {
			reached := got[ch]
			for id := uint32(1); id <= fuzzConns; id++ {
				c := &h.conns[id]
				in := reached[id]
				if in && (!c.open || c.app != app || !c.maybe[ch]) {
					t.Fatalf("probe on %q reached connection %d, which is not subscribed to it (open %v, app %d)", ch, id, c.open, c.app)
				}
				if !in && c.open && c.app == app && c.sure[ch] {
					t.Fatalf("probe on %q missed connection %d, subscribed to it", ch, id)
				}
				if c.open && c.app == app {
					c.sure[ch], c.maybe[ch] = in, in
					if !in {
						delete(c.sure, ch)
						delete(c.maybe, ch)
					}
				}
			}
			_, isListed := list.Channels[ch]
			if !h.remoteCounts && isListed != (len(reached) > 0) {
				t.Fatalf("GET /channels lists %q: %v, but %d connections are subscribed", ch, isListed, len(reached))
			}
			if strings.HasPrefix(ch, "presence-") {
				h.checkRoster(cfg, ch)
			} else if len(reached) > 0 || isListed {
				var info struct {
					Occupied bool `json:"occupied"`
					Count    int  `json:"subscription_count"`
				}
				body := h.query(cfg, "/channels/"+url.PathEscape(ch), "subscription_count")
				if err := json.Unmarshal(body, &info); err != nil {
					t.Fatalf("GET /channels/%s: %s", ch, body)
				}
				if info.Count < len(reached) || (!h.remoteCounts && info.Count != len(reached)) || info.Occupied != (info.Count > 0) {
					t.Fatalf("GET /channels/%s = %s, but %d connections are subscribed", ch, body, len(reached))
				}
			}
		}
	}
}

// probeChannels publishes the probe event on channels and returns, for each,
// the connections it reached.
func (h *fuzzHarness) probeChannels(cfg App, names []string) map[string]map[uint32]bool {
	t := h.t
	list, _ := json.Marshal(names)
	h.begin()
	if err := h.b.Publish(cfg.ID, list, []byte(fuzzProbeEvent), []byte("p"), nil); err != nil {
		t.Fatal(err)
	}
	h.publish = 1
	out := h.process("probe")
	got := map[string]map[uint32]bool{}
	for a := NewActions(out); a.Next(); {
		if a.Kind() != ActionBroadcast {
			continue
		}
		frame, conns, _ := a.Broadcast()
		f := checkTextFrame(t, frame)
		if f.Event != fuzzProbeEvent || f.Channel == nil {
			t.Fatalf("probe publish broadcast %q", frame)
		}
		set := got[*f.Channel]
		if set == nil {
			set = map[uint32]bool{}
			got[*f.Channel] = set
		}
		for i := range conns.Len() {
			set[conns.At(i)] = true
		}
	}
	return got
}

// checkRoster checks that a presence channel lists no user twice.
func (h *fuzzHarness) checkRoster(cfg App, ch string) {
	body := h.query(cfg, "/channels/"+url.PathEscape(ch)+"/users", "")
	var r struct {
		Users []struct {
			ID string `json:"id"`
		} `json:"users"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		h.t.Fatalf("GET users of %s: %s", ch, body)
	}
	seen := map[string]bool{}
	for _, u := range r.Users {
		if seen[u.ID] {
			h.t.Fatalf("presence roster of %s lists %q twice: %s", ch, u.ID, body)
		}
		seen[u.ID] = true
	}
	info := h.query(cfg, "/channels/"+url.PathEscape(ch), "user_count")
	var c struct {
		UserCount int `json:"user_count"`
	}
	if err := json.Unmarshal(info, &c); err != nil || c.UserCount != len(r.Users) {
		h.t.Fatalf("user_count of %s = %s, roster has %d users", ch, info, len(r.Users))
	}
}

// query answers a signed GET, with info when it is not empty, in its own
// batch; the answer must be 200.
func (h *fuzzHarness) query(cfg App, route, info string) []byte {
	h.begin()
	q := "auth_key=" + cfg.Key + "&auth_timestamp=" + strconv.FormatUint(h.now/1000, 10) + "&auth_version=1.0"
	if info != "" {
		q += "&info=" + info
	}
	path := "/apps/" + cfg.ID + route
	h.req++
	if err := h.b.HTTP(h.req, "GET", path, withSignature("GET", path, q, cfg.Secret), nil); err != nil {
		h.t.Fatal(err)
	}
	h.httpWait[h.req] = false
	out := h.process("query " + route)
	for a := NewActions(out); a.Next(); {
		if a.Kind() == ActionHTTPResponse {
			status, body, _ := a.HTTPResponse()
			if status != 200 {
				h.t.Fatalf("GET %s: %d %s", path, status, body)
			}
			return bytes.Clone(body)
		}
	}
	h.t.Fatalf("GET %s: no response", path)
	return nil
}

// TestReadPusherFrameReadsAsUnmarshal holds the oracle's frame reader to
// json.Unmarshal on the shapes a frame can take, but for case folding.
func TestReadPusherFrameReadsAsUnmarshal(t *testing.T) {
	if f, ok := readPusherFrame([]byte(`{"EVENT":"e","Channel":"c"}`)); !ok || f.Event != "" || f.Channel != nil {
		t.Errorf(`{"EVENT":"e","Channel":"c"} read as %+v: names must match exactly`, f)
	}
	for _, frame := range []string{
		`{"event":"e","channel":"c","data":"{\"a\":[1,{\"b\":\"}\"}]}"}`,
		` { "event" : "e" , "data" : { "x" : [ 1 , 2.5e3 , true , null ] } , "channel" : null } `,
		`{"\u0065vent":"pusher\u003aping","channel":"a\\b\"c"}`,
		`{"event":"first","event":"last","channel":"x","channel":"y"}`,
		`{"data":-0.5,"event":"e"}`,
		`{"event":"e","data":{},"nested":{"event":"inner","channel":"inner"}}`,
		`{"event":"e","channel":7}`,
		`{"event":1}`,
		`{}`,
		`["event","e"]`,
		`"event"`,
	} {
		var want pusherFrame
		wantOK := json.Unmarshal([]byte(frame), &want) == nil && want.Event != ""
		got, ok := readPusherFrame([]byte(frame))
		ok = ok && got.Event != ""
		if ok != wantOK || !wantOK {
			if ok != wantOK {
				t.Errorf("%s: read %v, json.Unmarshal %v", frame, ok, wantOK)
			}
			continue
		}
		if got.Event != want.Event || (got.Channel == nil) != (want.Channel == nil) ||
			(got.Channel != nil && *got.Channel != *want.Channel) || !bytes.Equal(got.Data, want.Data) {
			t.Errorf("%s: read %+v, json.Unmarshal %+v", frame, got, want)
		}
	}
}
