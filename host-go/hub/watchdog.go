package hub

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gobwas/ws"

	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
)

// The watchdog: every engine call has a deadline (Config.EngineTimeout). A
// call that overruns it is interrupted, and one that traps may have left the
// engine's state half updated; either way the engine is replaced by a fresh
// instance. The new one knows no connection, so every client is closed with
// 4200 and reconnects (and resubscribes) at once; the other nodes are told
// this node is a new one, so that they drop what it relayed before and
// relay all they have to it.

// startEngine instantiates an engine with the hub's call deadline and
// configures the apps.
func (h *Hub) startEngine() (*engine.Engine, error) {
	eng, err := h.cfg.newEngine()
	if err != nil {
		return nil, err
	}
	var b engine.Batch
	for i, app := range h.cfg.Apps {
		if err := b.App(uint32(i), app); err != nil {
			_ = eng.Close()
			return nil, err
		}
	}
	b.SetNow(uint64(time.Now().UnixMilli()))
	// A large configuration may take longer than a batch: the first call
	// gets the default deadline's worth at least.
	eng.SetTimeout(max(h.cfg.EngineTimeout, DefaultEngineTimeout))
	if _, err := eng.Process(b.Bytes()); err != nil {
		_ = eng.Close()
		return nil, fmt.Errorf("configuring apps: %w", err)
	}
	eng.SetTimeout(h.cfg.EngineTimeout)
	return eng, nil
}

// recoverEngine replaces the engine after the call on batch p failed.
func (h *Hub) recoverEngine(p *pending, cause error) {
	metrics.engineRecovery.Inc()
	h.dropBatch(p, cause)
	_ = h.eng.Close()
	h.eng = nil
	h.restartEngine()
}

// errNoEngine is why a batch is dropped while no engine could be started.
var errNoEngine = errors.New("no engine is running")

// dropBatch logs batch p as lost and answers its HTTP requests with 500 now
// rather than after HTTPTimeout.
func (h *Hub) dropBatch(p *pending, cause error) {
	metrics.engineErrors.Inc()
	h.log.Error("engine call failed: its batch is lost, a fresh engine replaces it and every connection is closed with 4200",
		"error", cause, "overran", errors.Is(cause, engine.ErrDeadline),
		"kinds", p.batch.Kinds(), "records", p.batch.Records(), "bytes", p.batch.Len())
	p.batch.Each(func(kind engine.EventKind, id uint32) {
		if kind == engine.EventHTTP {
			h.reqs.respond(id, Response{Status: http.StatusInternalServerError, Body: engineFailedBody})
		}
	})
}

// restartEngine starts a fresh engine and closes every connection with
// 4200; when the engine cannot start, h.eng stays nil and the next batch
// tries again.
func (h *Hub) restartEngine() {
	eng, err := h.startEngine()
	if err != nil {
		metrics.engineErrors.Inc()
		h.log.Error("starting a fresh engine failed", "error", err)
		return
	}
	h.eng = eng
	// The new engine never saw the connections of the table: their ids may
	// be reused once their CLOSED events, which it ignores, are processed.
	for _, c := range h.conns.all() {
		c.closeWith(4200, "The server restarted its engine: reconnect")
	}
	h.rejoin()
}

var engineFailedBody = []byte(`{"error":"The server failed on this request's batch: try again","code":500}`)

// closeWith sends a pusher:error with code and message, then a close frame
// with the same code, and closes the socket after them.
func (c *conn) closeWith(code int, message string) {
	var e pusherError
	e.Event = "pusher:error"
	e.Data.Code, e.Data.Message = code, message
	data, _ := json.Marshal(e)
	c.closeAfter(
		ws.MustCompileFrame(ws.NewTextFrame(data)),
		ws.MustCompileFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusCode(code), message))),
	)
}

// pusherError is the engine's pusher:error frame, for the few the host sends.
type pusherError struct {
	Event string `json:"event"`
	Data  struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"data"`
}
