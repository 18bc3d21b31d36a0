<?php

namespace Pogo\WebSocket\Events;

/** A channel got its first subscriber (webhook "channel_occupied"). */
final class ChannelOccupied extends WebhookEvent
{
}
