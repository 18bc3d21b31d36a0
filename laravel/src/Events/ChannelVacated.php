<?php

namespace Pogo\WebSocket\Events;

/** A channel lost its last subscriber (webhook "channel_vacated"). */
final class ChannelVacated extends WebhookEvent
{
}
