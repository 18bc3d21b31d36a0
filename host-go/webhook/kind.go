package webhook

import "fmt"

// Kind is a webhook event type. The numbers are the engine's (the WEBHOOK
// action, assembly/README.md); bit 1<<Kind of the engine's Webhooks app
// option asks the engine for that kind.
type Kind uint8

// The seven Pusher webhook event types.
const (
	ChannelOccupied Kind = 1 + iota
	ChannelVacated
	MemberAdded
	MemberRemoved
	ClientEvent
	CacheMiss
	SubscriptionCount
)

// Kinds lists every webhook event type, in order.
var Kinds = []Kind{ChannelOccupied, ChannelVacated, MemberAdded, MemberRemoved, ClientEvent, CacheMiss, SubscriptionCount}

var kindNames = [...]string{
	ChannelOccupied:   "channel_occupied",
	ChannelVacated:    "channel_vacated",
	MemberAdded:       "member_added",
	MemberRemoved:     "member_removed",
	ClientEvent:       "client_event",
	CacheMiss:         "cache_miss",
	SubscriptionCount: "subscription_count",
}

// String returns the kind's Pusher name, e.g. channel_occupied.
func (k Kind) String() string {
	if k >= 1 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("webhook kind %d", k)
}

// ParseKind returns the kind named name (channel_occupied, ...).
func ParseKind(name string) (Kind, bool) {
	for _, k := range Kinds {
		if kindNames[k] == name {
			return k, true
		}
	}
	return 0, false
}

// valid reports whether k is one of the seven kinds.
func (k Kind) valid() bool { return k >= ChannelOccupied && k <= SubscriptionCount }

// pair returns the kind that cancels a held-back k, or cancels k when k is
// the later one, and whether k belongs to such a pair: a vacated channel
// occupied again, a removed member added again.
func (k Kind) pair() (Kind, bool) {
	switch k {
	case ChannelOccupied:
		return ChannelVacated, true
	case ChannelVacated:
		return ChannelOccupied, true
	case MemberAdded:
		return MemberRemoved, true
	case MemberRemoved:
		return MemberAdded, true
	}
	return 0, false
}

// heldBack reports whether k waits for the hold-back window before it is
// sent, in case its pair follows.
func (k Kind) heldBack() bool { return k == ChannelVacated || k == MemberRemoved }

// mask returns the bits of kinds; no kinds means all of them.
func mask(kinds []Kind) uint32 {
	if len(kinds) == 0 {
		kinds = Kinds
	}
	var m uint32
	for _, k := range kinds {
		m |= 1 << k
	}
	return m
}

// EngineMask returns the value of the engine's Webhooks app option for
// endpoints: the kinds any of them wants, with the other half of each pair,
// which the hold-back needs to cancel flapping. Zero: no webhooks, and the
// engine emits nothing.
func EngineMask(endpoints []Endpoint) uint32 {
	var m uint32
	for _, e := range endpoints {
		m |= mask(e.Kinds)
	}
	for _, k := range Kinds {
		if p, ok := k.pair(); ok && m&(1<<k) != 0 {
			m |= 1 << p
		}
	}
	return m
}
