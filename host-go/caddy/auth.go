package pogows

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/pogo-websocket/pogo-websocket/host-go/hub"
)

// Defaults of the auth worker options.
const (
	defaultNumWorkers     = 2
	defaultMaxAuthRequest = 64 << 10
)

// AuthWorkersConfig configures the PHP auth workers of one handler.
type AuthWorkersConfig struct {
	// Script is the worker script (absolute or relative to the working directory).
	Script string
	// NumWorkers is the number of PHP threads running Script.
	NumWorkers int
	// MaxConcurrent bounds the authorisations in flight; 0: the pool's default.
	MaxConcurrent int
	// MaxAnswer is the largest answer body in bytes; 0: the pool's default.
	MaxAnswer int
	// MaxRequest is the largest auth request body in bytes.
	MaxRequest int64
	// Timeout bounds one authorisation; 0: the pool's default.
	Timeout time.Duration
	// BreakerFailures and BreakerCooldown tune the circuit breaker; 0: the pool's defaults.
	BreakerFailures int
	BreakerCooldown time.Duration
	// Logger receives the workers' logs.
	Logger *slog.Logger
}

// AuthWorkers is a pool of PHP threads running an auth script: it authorises
// subscribes without `auth` for the hub and answers the auth endpoints.
type AuthWorkers interface {
	hub.Authorizer
	// ServeAuth answers a POST to auth_path or user_auth_path through the
	// script: the script's own status and body, or 503 (busy, breaker open),
	// 504 (timeout), 502 (failed script, bad or oversized answer), 413
	// (request body too large).
	ServeAuth(w http.ResponseWriter, r *http.Request)
}

// NewAuthWorkers starts the auth workers of a handler with auth_script. It
// is nil in the plain Caddy build; the FrankenPHP build
// (host-go/frankenphp) sets it, so this package needs no cgo. It is called
// at every provisioning, so at every config load.
var NewAuthWorkers func(ctx caddy.Context, cfg AuthWorkersConfig) (AuthWorkers, error)

// authWorkersConfig returns the auth worker configuration, or ok false
// without auth_script.
func (h *Handler) authWorkersConfig() (cfg AuthWorkersConfig, ok bool) {
	if h.AuthScript == "" {
		return AuthWorkersConfig{}, false
	}
	n := h.NumWorkers
	if n == 0 {
		n = defaultNumWorkers
	}
	return AuthWorkersConfig{
		Script:          caddy.NewReplacer().ReplaceKnown(h.AuthScript, ""),
		NumWorkers:      n,
		MaxConcurrent:   h.MaxConcurrentAuth,
		MaxAnswer:       h.MaxAuthBody,
		MaxRequest:      defaultMaxAuthRequest,
		Timeout:         time.Duration(h.AuthTimeout),
		BreakerFailures: h.AuthBreakerFailures,
		BreakerCooldown: time.Duration(h.AuthBreakerCooldown),
		Logger:          h.logger,
	}, true
}

// checkAuth validates the auth options.
func (h *Handler) checkAuth() []error {
	var errs []error
	if NewAuthWorkers == nil && (h.AuthScript != "" || h.NumWorkers != 0) {
		// Refused here, before anything starts, rather than ignored.
		return append(errs, errors.New("auth_script and num_workers run PHP auth workers: they need the FrankenPHP build (make frankenphp, then bin/frankenphp)"))
	}
	if h.AuthScript == "" {
		if h.AuthPath != "" || h.UserAuthPath != "" || h.NumWorkers != 0 {
			errs = append(errs, fmt.Errorf("auth_path, user_auth_path and num_workers need auth_script"))
		}
		return errs
	}
	if h.NumWorkers < 0 || h.MaxConcurrentAuth < 0 || h.MaxAuthBody < 0 || h.AuthTimeout < 0 ||
		h.AuthBreakerFailures < 0 || h.AuthBreakerCooldown < 0 {
		errs = append(errs, fmt.Errorf("auth worker options must not be negative"))
	}
	for _, p := range []string{h.AuthPath, h.UserAuthPath} {
		if p != "" && p[0] != '/' {
			errs = append(errs, fmt.Errorf("auth path %q must start with '/'", p))
		}
	}
	if h.AuthPath != "" && h.AuthPath == h.UserAuthPath {
		errs = append(errs, fmt.Errorf("auth_path and user_auth_path must differ"))
	}
	return errs
}

// serveAuthPath answers auth_path and user_auth_path; false for other paths.
func (h *Handler) serveAuthPath(w http.ResponseWriter, r *http.Request) bool {
	p := r.URL.Path
	if h.auth == nil || p == "" || (p != h.AuthPath && p != h.UserAuthPath) {
		return false
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "Method not allowed")
		return true
	}
	h.auth.ServeAuth(w, r)
	return true
}
