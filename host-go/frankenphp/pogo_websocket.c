// The PHP extension "pogo_websocket": thin PHP_FUNCTIONs that pass their
// string arguments to the Go exports in php.go and return their code.

#include <php.h>
#include <ext/standard/info.h>

#include "pogo_websocket.h"
#include "pogo_websocket_arginfo.h"
#include "_cgo_export.h"

// The optional $socketId: NULL (not given, or null) excludes no connection.
#define SOCKET_ID_VAL(s) ((s) != NULL ? ZSTR_VAL(s) : NULL)
#define SOCKET_ID_LEN(s) ((s) != NULL ? ZSTR_LEN(s) : 0)

PHP_FUNCTION(pogo_websocket_publish) {
  zend_string *app_id, *channel, *event, *data, *socket_id = NULL;

  ZEND_PARSE_PARAMETERS_START(4, 5)
  Z_PARAM_STR(app_id)
  Z_PARAM_STR(channel)
  Z_PARAM_STR(event)
  Z_PARAM_STR(data)
  Z_PARAM_OPTIONAL
  Z_PARAM_STR_OR_NULL(socket_id)
  ZEND_PARSE_PARAMETERS_END();

  RETURN_LONG(go_pogo_websocket_publish(
      ZSTR_VAL(app_id), ZSTR_LEN(app_id), ZSTR_VAL(channel), ZSTR_LEN(channel),
      ZSTR_VAL(event), ZSTR_LEN(event), ZSTR_VAL(data), ZSTR_LEN(data),
      SOCKET_ID_VAL(socket_id), SOCKET_ID_LEN(socket_id)));
}

PHP_FUNCTION(pogo_websocket_broadcast_multi) {
  zend_string *app_id, *channels, *event, *data, *socket_id = NULL;

  ZEND_PARSE_PARAMETERS_START(4, 5)
  Z_PARAM_STR(app_id)
  Z_PARAM_STR(channels)
  Z_PARAM_STR(event)
  Z_PARAM_STR(data)
  Z_PARAM_OPTIONAL
  Z_PARAM_STR_OR_NULL(socket_id)
  ZEND_PARSE_PARAMETERS_END();

  RETURN_LONG(go_pogo_websocket_broadcast_multi(
      ZSTR_VAL(app_id), ZSTR_LEN(app_id), ZSTR_VAL(channels),
      ZSTR_LEN(channels), ZSTR_VAL(event), ZSTR_LEN(event), ZSTR_VAL(data),
      ZSTR_LEN(data), SOCKET_ID_VAL(socket_id), SOCKET_ID_LEN(socket_id)));
}

static PHP_MINIT_FUNCTION(pogo_websocket) {
  register_pogo_websocket_symbols(module_number);
  return SUCCESS;
}

static PHP_MINFO_FUNCTION(pogo_websocket) {
  php_info_print_table_start();
  php_info_print_table_row(2, "pogo_websocket support", "enabled");
  php_info_print_table_end();
}

zend_module_entry pogo_websocket_module_entry = {
    STANDARD_MODULE_HEADER,
    "pogo_websocket",
    ext_functions,
    PHP_MINIT(pogo_websocket),
    NULL, /* MSHUTDOWN */
    NULL, /* RINIT */
    NULL, /* RSHUTDOWN */
    PHP_MINFO(pogo_websocket),
    "0.1.0",
    STANDARD_MODULE_PROPERTIES};

// FrankenPHP's RegisterExtension adds a module to the first PHP startup only:
// a Caddy reload restarts PHP without it (php/frankenphp#2572). This hook
// registers the module at every startup instead, chaining whatever hook was
// installed before.
static int (*previous_register_internal_extensions)(void) = NULL;

static int register_internal_extensions(void) {
  if (previous_register_internal_extensions != NULL &&
      previous_register_internal_extensions() != SUCCESS) {
    return FAILURE;
  }
  return zend_register_internal_module(&pogo_websocket_module_entry) != NULL
             ? SUCCESS
             : FAILURE;
}

void pogo_websocket_install(void) {
  previous_register_internal_extensions = php_register_internal_extensions_func;
  php_register_internal_extensions_func = register_internal_extensions;
}
