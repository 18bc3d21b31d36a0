package frankenphp

import (
	"sync"

	"github.com/caddyserver/caddy/v2"
	"github.com/dunglas/frankenphp"
	frankenphpcaddy "github.com/dunglas/frankenphp/caddy"

	pogows "github.com/pogo-websocket/pogo-websocket/host-go/caddy"
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
