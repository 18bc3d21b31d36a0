// The answer to a refused HTTP API request: `{"error":"...","code":status}`.

import { httpResponse, text } from "../frame/output";

/** Answers request `req` with `status` and `message`. */
export function error(req: u32, status: u16, message: string): void {
  text.reset();
  text.ascii('{"error":"');
  text.ascii(message);
  text.ascii('","code":');
  text.decimal(status);
  text.byte(0x7d);
  httpResponse(req, status);
}
