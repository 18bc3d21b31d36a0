// The numbers the engine answers with: Pusher's close and `pusher:error`
// codes (shared/research/protocol.md) and the HTTP statuses of the HTTP API.
// Typed u16 constants, not enums, because close frames and HTTP answers carry
// them as u16; the compiler inlines them as literals.

/**
 * Pusher close codes; `pusher:error` carries the same numbers. pusher-js does
 * not reconnect after 4000-4099, backs off after 4100-4199 and reconnects at
 * once after 4200-4299.
 */
export namespace CloseCode {
  /** No app has the key in the connection URL. */
  export const AppNotFound: u16 = 4001;
  /**
   * The `protocol` query parameter names a version other than 7. The host
   * refuses it at the upgrade already; the engine checks again.
   */
  export const UnsupportedProtocol: u16 = 4007;
  /** No `protocol` query parameter (the host refuses it at the upgrade already). */
  export const NoProtocolVersion: u16 = 4008;
  /** The app is at its `max_connections`. */
  export const OverQuota: u16 = 4004;
  /**
   * Not authorised: Origin refused, sign-in refused, client event on a
   * channel the client is not in, no sign-in in time, terminated by the API.
   */
  export const Unauthorized: u16 = 4009;
  /** A capacity limit: the presence channel is full (a `subscription_error` status). */
  export const OverCapacity: u16 = 4100;
  /** A malformed message, as Reverb answers it: an error, the connection stays. */
  export const InvalidMessage: u16 = 4200;
  /** The server is stopping: clients reconnect at once (to another node). */
  export const ShuttingDown: u16 = 4200;
  /** A ping went unanswered. */
  export const PongTimeout: u16 = 4201;
  /** A message over `max_message_size`: an error, the connection stays. */
  export const MessageTooLarge: u16 = 4300;
  /** A client event refused: disabled, rate limited, wrong channel type or name too long. */
  export const ClientEventRejected: u16 = 4301;
  /** A watchlist that is not an array, or longer than 100 ids. */
  export const WatchlistRefused: u16 = 4302;
}

/** HTTP statuses of the HTTP API's answers. */
export namespace HttpStatus {
  export const OK: u16 = 200;
  export const BadRequest: u16 = 400;
  export const Unauthorized: u16 = 401;
  export const NotFound: u16 = 404;
  export const MethodNotAllowed: u16 = 405;
  export const PayloadTooLarge: u16 = 413;
}
