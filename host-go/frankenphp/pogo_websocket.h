#ifndef POGO_WEBSOCKET_H
#define POGO_WEBSOCKET_H

#include <php.h>

extern zend_module_entry pogo_websocket_module_entry;

#endif
