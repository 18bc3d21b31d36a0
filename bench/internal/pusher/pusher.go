// Package pusher builds the Pusher protocol (v7) messages and signatures the
// benchmarks need: signed HTTP API publishes, private channel authorizations
// and the few client messages they send.
//
// It is deliberately small and allocation-light rather than general: values
// that go into a signed query must be URL-safe (they are: keys, decimal
// timestamps, hex digests), so the string to sign is the query itself.
package pusher

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Credentials identify one Pusher app.
type Credentials struct {
	AppID  string
	Key    string
	Secret string
}

// EventsPath returns the path of the HTTP API's publish endpoint.
func (c Credentials) EventsPath() string { return "/apps/" + c.AppID + "/events" }

// SignQuery returns the query string of a signed HTTP API request:
// auth_key, auth_timestamp (Unix seconds), auth_version, body_md5 (when body
// is not empty) and auth_signature, the hex HMAC-SHA256 of
// "METHOD\nPATH\n<the other parameters, sorted by name>".
func (c Credentials) SignQuery(method, path string, body []byte, timestamp int64) string {
	// The parameters are appended in sorted order.
	q := make([]byte, 0, 192)
	q = append(q, "auth_key="...)
	q = append(q, c.Key...)
	q = append(q, "&auth_timestamp="...)
	q = strconv.AppendInt(q, timestamp, 10)
	q = append(q, "&auth_version=1.0"...)
	if len(body) > 0 {
		sum := md5.Sum(body)
		q = append(q, "&body_md5="...)
		q = hex.AppendEncode(q, sum[:])
	}
	mac := hmac.New(sha256.New, []byte(c.Secret))
	mac.Write([]byte(method))
	mac.Write([]byte{'\n'})
	mac.Write([]byte(path))
	mac.Write([]byte{'\n'})
	mac.Write(q)
	q = append(q, "&auth_signature="...)
	q = hex.AppendEncode(q, mac.Sum(nil))
	return string(q)
}

// ChannelAuth returns the `auth` field that authorizes socketID to
// subscribe to a private channel: "<key>:<hex HMAC-SHA256(socket_id:channel)>".
func (c Credentials) ChannelAuth(socketID, channel string) string {
	mac := hmac.New(sha256.New, []byte(c.Secret))
	mac.Write([]byte(socketID))
	mac.Write([]byte{':'})
	mac.Write([]byte(channel))
	return c.Key + ":" + hex.EncodeToString(mac.Sum(nil))
}

// PresenceAuth returns the `auth` field that authorizes socketID to join a
// presence channel as channelData: "<key>:<hex HMAC-SHA256(socket_id:channel:channel_data)>".
func (c Credentials) PresenceAuth(socketID, channel, channelData string) string {
	mac := hmac.New(sha256.New, []byte(c.Secret))
	mac.Write([]byte(socketID))
	mac.Write([]byte{':'})
	mac.Write([]byte(channel))
	mac.Write([]byte{':'})
	mac.Write([]byte(channelData))
	return c.Key + ":" + hex.EncodeToString(mac.Sum(nil))
}

// UsersPath returns the path of the HTTP API's presence roster query.
func (c Credentials) UsersPath(channel string) string {
	return "/apps/" + c.AppID + "/channels/" + channel + "/users"
}

// EventBody returns the JSON body of a publish (POST /apps/{id}/events).
func EventBody(name string, channels []string, data string) []byte {
	b, err := json.Marshal(struct {
		Name     string   `json:"name"`
		Channels []string `json:"channels"`
		Data     string   `json:"data"`
	}{name, channels, data})
	if err != nil {
		panic(err) // strings always marshal
	}
	return b
}

// Client messages.
var (
	// Ping is the client's pusher:ping.
	Ping = []byte(`{"event":"pusher:ping","data":{}}`)
	// Pong answers the server's pusher:ping.
	Pong = []byte(`{"event":"pusher:pong","data":{}}`)
)

// Subscribe returns a pusher:subscribe message; auth is empty for public channels.
func Subscribe(channel, auth string) []byte {
	type data struct {
		Channel string `json:"channel"`
		Auth    string `json:"auth,omitempty"`
	}
	return message("pusher:subscribe", data{channel, auth})
}

// SubscribePresence returns a pusher:subscribe message joining a presence
// channel with channelData (the JSON the auth signed).
func SubscribePresence(channel, auth, channelData string) []byte {
	return message("pusher:subscribe", struct {
		Channel     string `json:"channel"`
		Auth        string `json:"auth"`
		ChannelData string `json:"channel_data"`
	}{channel, auth, channelData})
}

// Unsubscribe returns a pusher:unsubscribe message.
func Unsubscribe(channel string) []byte {
	return message("pusher:unsubscribe", struct {
		Channel string `json:"channel"`
	}{channel})
}

// ClientEvent returns a client event (name must start with "client-") on a
// private or presence channel; data is any JSON value.
func ClientEvent(name, channel string, data json.RawMessage) []byte {
	b, err := json.Marshal(struct {
		Event   string          `json:"event"`
		Channel string          `json:"channel"`
		Data    json.RawMessage `json:"data"`
	}{name, channel, data})
	if err != nil {
		panic(err)
	}
	return b
}

func message(event string, data any) []byte {
	b, err := json.Marshal(struct {
		Event string `json:"event"`
		Data  any    `json:"data"`
	}{event, data})
	if err != nil {
		panic(err)
	}
	return b
}

// Event is a server message; Data is kept raw (Pusher sends it as a JSON
// string or an object).
type Event struct {
	Event   string          `json:"event"`
	Channel string          `json:"channel,omitempty"`
	Data    json.RawMessage `json:"data"`
}

// ParseEvent decodes a server message.
func ParseEvent(msg []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(msg, &e); err != nil {
		return e, fmt.Errorf("pusher message %q: %w", msg, err)
	}
	return e, nil
}

// ErrNotEstablished is returned by SocketID for any message but
// pusher:connection_established.
var ErrNotEstablished = errors.New("pusher: not a pusher:connection_established message")

// SocketID returns the socket id announced by pusher:connection_established.
func SocketID(msg []byte) (string, error) {
	e, err := ParseEvent(msg)
	if err != nil {
		return "", err
	}
	if e.Event != "pusher:connection_established" {
		return "", fmt.Errorf("%w: %.200s", ErrNotEstablished, msg)
	}
	// data is a JSON-encoded string holding an object.
	var s string
	if err := json.Unmarshal(e.Data, &s); err != nil {
		s = string(e.Data)
	}
	var d struct {
		SocketID string `json:"socket_id"`
	}
	if err := json.Unmarshal([]byte(s), &d); err != nil || d.SocketID == "" {
		return "", fmt.Errorf("%w: no socket_id in %.200s", ErrNotEstablished, msg)
	}
	return d.SocketID, nil
}
