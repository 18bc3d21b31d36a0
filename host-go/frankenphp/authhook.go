package frankenphp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/caddyserver/caddy/v2"
	"github.com/dunglas/frankenphp"
	frankenphpcaddy "github.com/dunglas/frankenphp/caddy"

	pogows "github.com/pogo-websocket/pogo-websocket/host-go/caddy"
	"github.com/pogo-websocket/pogo-websocket/host-go/frankenphp/internal/authpool"
	"github.com/pogo-websocket/pogo-websocket/host-go/hub"
)

func init() {
	pogows.NewAuthWorkers = newAuthWorkers
	caddy.RegisterModule(registrations{})
}

// FrankenPHP keeps registered workers in a package-level list that every
// config load's start consumes and only its app's Stop empties, and that
// Stop comes after the next config has started. So at the first reload the
// list still holds the first load's registrations, at later ones it is
// empty. A worker name may appear once in the list (Init fails otherwise).
//
// pending mirrors that list for our workers: the names registered since the
// frankenphp app last stopped, with their handles (a handle routes by name,
// so it serves whichever start picked the registration up). The
// registrations app below empties it in its Stop, which runs with
// FrankenPHP's at the end of the same config.
var (
	pendingMu sync.Mutex
	pending   = map[string]frankenphp.Workers{}
)

// registrations is a Caddy app that only tracks FrankenPHP's stops.
type registrations struct{}

func (registrations) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "pogo_websocket_auth_workers", New: func() caddy.Module { return registrations{} }}
}

func (registrations) Start() error { return nil }

func (registrations) Stop() error {
	pendingMu.Lock()
	clear(pending)
	pendingMu.Unlock()
	return nil
}

// register registers a worker pool once per FrankenPHP start.
func register(name, script string, num int) frankenphp.Workers {
	pendingMu.Lock()
	defer pendingMu.Unlock()
	if w, ok := pending[name]; ok {
		return w
	}
	w := frankenphpcaddy.RegisterWorkers(name, script, num)
	pending[name] = w
	return w
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

// errRefused is returned, in a *hub.AuthRefusal with the script's status,
// by Authorize when the script answered with a status other than 200.
var errRefused = errors.New("pogo websocket: the auth script refused the subscribe")

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
		return nil, &hub.AuthRefusal{Status: status, Err: err}
	}
	if res.Status != http.StatusOK {
		return nil, &hub.AuthRefusal{Status: res.Status, Err: fmt.Errorf("%w: status %d", errRefused, res.Status)}
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
