//go:build !linux

package hub

import "errors"

// watch is the event-driven read path's registration, Linux only: elsewhere
// every connection is read by a goroutine of its own (watchConn returns nil).
type watch struct{}

func watchConn(*conn) *watch { return nil }

var errIdle = errors.New("nothing to read")

func (*watch) arm() error                     { return errIdle }
func (*watch) forget()                        {}
func (*watch) poll([]byte, bool) (int, error) { return 0, errIdle }
