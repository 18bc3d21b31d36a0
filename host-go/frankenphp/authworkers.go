package frankenphp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/dunglas/frankenphp"

	pogows "github.com/pogo-websocket/pogo-websocket/host-go/caddy"
	"github.com/pogo-websocket/pogo-websocket/host-go/frankenphp/internal/authpool"
	"github.com/pogo-websocket/pogo-websocket/host-go/hub"
)

// workerSender adapts FrankenPHP extension workers to authpool.Sender: a PHP
// array the script returns comes back as map[string]any or []any (FrankenPHP
// gives frankenphp.AssociativeArray for non-list arrays).
type workerSender struct{ workers frankenphp.Workers }

func (s workerSender) SendMessage(ctx context.Context, message any, rw http.ResponseWriter) (any, error) {
	v, err := s.workers.SendMessage(ctx, message, rw)
	return plainValue(v), err
}

func plainValue(v any) any {
	switch v := v.(type) {
	case frankenphp.AssociativeArray[any]:
		m := make(map[string]any, len(v.Map))
		for k, e := range v.Map {
			m[k] = plainValue(e)
		}
		return m
	case map[string]any:
		for k, e := range v {
			v[k] = plainValue(e)
		}
		return v
	case []any:
		for i, e := range v {
			v[i] = plainValue(e)
		}
		return v
	}
	return v
}

// authWorkers runs auth requests through a FrankenPHP extension-worker pool
// under the guards of an authpool.Pool. The worker script is an ordinary auth
// endpoint: it sees each request's method, headers, cookies and body through
// PHP's superglobals and answers with echo and header().
type authWorkers struct {
	workers frankenphp.Workers
	pool    *authpool.Pool
	maxBody int64 // largest request body passed to the script
}

// newAuthWorkers registers a FrankenPHP extension-worker pool running the
// auth script. It runs at every provisioning of a pogo_websocket handler:
// FrankenPHP forgets its registrations when it restarts at a config load.
func newAuthWorkers(ctx caddy.Context, cfg pogows.AuthWorkersConfig) (pogows.AuthWorkers, error) {
	script, err := filepath.Abs(cfg.Script)
	if err != nil {
		return nil, err
	}
	// The frankenphp app starts PHP, and the registered workers with it.
	if _, err := ctx.App("frankenphp"); err != nil {
		return nil, fmt.Errorf("loading the frankenphp app: %w", err)
	}
	if _, err := ctx.App("pogo_websocket_auth_workers"); err != nil {
		return nil, err
	}
	// Handlers with the same script and size share one pool.
	sum := sha256.Sum256([]byte(script + "\x00" + strconv.Itoa(cfg.NumWorkers)))
	workers := register("pogo-websocket-auth-"+hex.EncodeToString(sum[:6]), script, cfg.NumWorkers)
	return &authWorkers{
		workers: workers,
		pool: authpool.New(nil, authpool.Config{
			MaxConcurrent: cfg.MaxConcurrent,
			MaxReply:      cfg.MaxAnswer,
			Timeout:       cfg.Timeout,
			Failures:      cfg.BreakerFailures,
			Cooldown:      cfg.BreakerCooldown,
		}),
		maxBody: cfg.MaxRequest,
	}, nil
}

// errScriptDenied is returned, in a *hub.AuthError with the script's status,
// by Authorize when the script answered with a status other than 200.
var errScriptDenied = errors.New("pogo websocket: the auth script denied the subscribe")

// Authorize runs a subscribe without `auth` through the script as if
// pusher-js had posted it to the auth endpoint, with the connection's cookies
// and Authorization header.
func (a *authWorkers) Authorize(ctx context.Context, r hub.AuthRequest) ([]byte, error) {
	form := url.Values{"socket_id": {r.SocketID}, "channel_name": {r.Channel}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://localhost/pogo/auth", strings.NewReader(form))
	if err != nil {
		return nil, err
	}
	req.RemoteAddr = "127.0.0.1:0"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if r.Cookie != "" {
		req.Header.Set("Cookie", r.Cookie)
	}
	if r.Authorization != "" {
		req.Header.Set("Authorization", r.Authorization)
	}
	res, err := a.serveAuth(ctx, req)
	if err != nil {
		status, _ := authErrorStatus(err)
		return nil, &hub.AuthError{Status: status, Err: err}
	}
	if res.Status != http.StatusOK {
		return nil, &hub.AuthError{Status: res.Status, Err: fmt.Errorf("%w: status %d", errScriptDenied, res.Status)}
	}
	return res.Body, nil
}

// ServeAuth answers a POST to auth_path or user_auth_path through the script.
func (a *authWorkers) ServeAuth(w http.ResponseWriter, r *http.Request) {
	res, err := a.serveAuth(r.Context(), r)
	if err != nil {
		if r.Context().Err() != nil {
			return // the client left
		}
		status, msg := authErrorStatus(err)
		writeAuthError(w, status, msg)
		return
	}
	hdr := w.Header()
	for k, v := range res.Header {
		hdr[k] = v
	}
	if hdr.Get("Content-Type") == "" {
		hdr.Set("Content-Type", "application/json")
	}
	hdr.Set("Content-Length", strconv.Itoa(len(res.Body)))
	w.WriteHeader(res.Status)
	_, _ = w.Write(res.Body)
}

// authErrorStatus maps a failed authorisation to an HTTP status.
func authErrorStatus(err error) (int, string) {
	switch {
	case errors.Is(err, errAuthBodyTooLarge):
		return http.StatusRequestEntityTooLarge, "Auth request too large"
	case errors.Is(err, authpool.ErrBusy):
		return http.StatusServiceUnavailable, "Too many authorisations in progress"
	case errors.Is(err, authpool.ErrOpen):
		return http.StatusServiceUnavailable, "Auth workers unavailable"
	case errors.Is(err, authpool.ErrTimeout):
		return http.StatusGatewayTimeout, "Auth script did not answer in time"
	case errors.Is(err, authpool.ErrTooLarge):
		return http.StatusBadGateway, "Auth script answer too large"
	default:
		return http.StatusBadGateway, "Auth script failed"
	}
}

func writeAuthError(w http.ResponseWriter, status int, msg string) {
	body := []byte(`{"error":` + strconv.Quote(msg) + `}`)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// authResponse is the script's answer to one request.
type authResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

var (
	errAuthBodyTooLarge = errors.New("pogo websocket: auth request body too large")
	// errScriptFailed is a 5xx answer (an uncaught exception, a fatal error):
	// a worker failure for the breaker, not an answer.
	errScriptFailed = errors.New("pogo websocket: the auth script failed")
)

// serveAuth runs r through the script. It returns once the script has
// answered or the pool has given up on it; r may be reused after that.
func (a *authWorkers) serveAuth(ctx context.Context, r *http.Request) (authResponse, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, a.maxBody+1))
	if err != nil {
		return authResponse{}, err
	}
	if int64(len(body)) > a.maxBody {
		return authResponse{}, errAuthBodyTooLarge
	}
	// The script may outlive this call: it gets its own copy of the request.
	req := r.Clone(context.WithoutCancel(ctx))
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))

	rec := &capturedResponse{header: http.Header{}, max: a.pool.MaxReply()}
	start := time.Now()
	reply, err := a.pool.Do(ctx, func(context.Context) ([]byte, error) {
		if err := a.workers.SendRequest(rec, req); err != nil {
			return nil, err
		}
		if rec.over {
			return nil, authpool.ErrTooLarge
		}
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		if rec.status >= 500 {
			return nil, fmt.Errorf("%w: status %d", errScriptFailed, rec.status)
		}
		// A successful auth answer is a JSON object; anything else (PHP's
		// fatal error page with display_errors on, garbage) is a failure.
		if b := bytes.TrimSpace(rec.body.Bytes()); rec.status == http.StatusOK && (len(b) == 0 || b[0] != '{' || !json.Valid(b)) {
			return nil, authpool.ErrBadReply
		}
		return rec.body.Bytes(), nil
	})
	observeAuth(time.Since(start), err)
	if err != nil {
		return authResponse{}, err
	}
	// Do returned the call's result, so the script is done with rec.
	return authResponse{Status: rec.status, Header: rec.header, Body: reply}, nil
}

// capturedResponse keeps a script's response, up to max body bytes.
type capturedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
	max    int
	over   bool
}

func (c *capturedResponse) Header() http.Header { return c.header }

func (c *capturedResponse) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

func (c *capturedResponse) Write(b []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	if c.body.Len()+len(b) > c.max {
		c.over = true
		return 0, authpool.ErrTooLarge
	}
	return c.body.Write(b)
}
