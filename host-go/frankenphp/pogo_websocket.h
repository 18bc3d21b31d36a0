#ifndef POGO_WEBSOCKET_H
#define POGO_WEBSOCKET_H

#include <php.h>

// Return codes of the PHP functions; keep in step with internal/bridge.
#define POGO_WEBSOCKET_OK 0
#define POGO_WEBSOCKET_HUB_MISSING 1
#define POGO_WEBSOCKET_CHANNEL_INVALID 2
#define POGO_WEBSOCKET_EVENT_INVALID 3
#define POGO_WEBSOCKET_PAYLOAD_TOO_LARGE 4
#define POGO_WEBSOCKET_PAYLOAD_INVALID 5
#define POGO_WEBSOCKET_BROKER_PUBLISH_FAILED 6
#define POGO_WEBSOCKET_CHANNELS_INVALID 7
#define POGO_WEBSOCKET_BROKER_QUEUE_FULL 8
#define POGO_WEBSOCKET_SHARD_QUEUE_FULL 9
#define POGO_WEBSOCKET_SOCKET_ID_INVALID 10

extern zend_module_entry pogo_websocket_module_entry;

// Makes PHP register the extension at each of its startups; call once, before
// FrankenPHP starts PHP.
void pogo_websocket_install(void);

#endif
