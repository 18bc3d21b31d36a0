package frankenphp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/dunglas/frankenphp"
	"github.com/pogo-websocket/pogo-websocket/host-go/frankenphp/internal/authpool"
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
