// Shared assertions on the wire shapes the engine promises.

import assert from 'node:assert/strict';
import { parseMaybe } from './clients.js';

// HTTP errors: status, Content-Type application/json, body {"error":"<message>","code":<status>}.
export function assertHttpError(res, status, { messageMatches } = {}) {
  assert.equal(res.status, status, `expected HTTP ${status}, got ${res.status}: ${res.body}`);
  // (results read through the pusher SDK's RequestError carry no headers)
  if (res.headers) {
    const type = res.headers.get('content-type') ?? '';
    assert.match(type, /^application\/json/, `Content-Type of an HTTP ${status} error: ${type}`);
  }
  assert.ok(res.json && typeof res.json === 'object', `error body is not JSON: ${res.body}`);
  assert.equal(typeof res.json.error, 'string', `error body lacks an "error" string: ${res.body}`);
  assert.ok(res.json.error.length > 0, `empty error message: ${res.body}`);
  assert.equal(res.json.code, status, `error body "code" should be ${status}: ${res.body}`);
  if (messageMatches) assert.match(res.json.error, messageMatches);
}

export function assertHttpOk(res, expectedJson) {
  assert.equal(res.status, 200, `expected HTTP 200, got ${res.status}: ${res.body}`);
  const type = res.headers?.get?.('content-type') ?? '';
  assert.match(type, /^application\/json/, `Content-Type: ${type}`);
  if (expectedJson !== undefined) assert.deepEqual(res.json, expectedJson);
}

// A pusher:error frame with the given code (data may be an object or a JSON string).
export function assertPusherError(frame, code) {
  assert.equal(frame.event, 'pusher:error', `expected pusher:error, got ${JSON.stringify(frame)}`);
  const data = parseMaybe(frame.data);
  assert.ok(data && typeof data === 'object', `pusher:error data is not an object: ${JSON.stringify(frame)}`);
  assert.equal(typeof data.message, 'string', `pusher:error without message: ${JSON.stringify(frame)}`);
  assert.ok(data.message.length > 0, `pusher:error with empty message: ${JSON.stringify(frame)}`);
  if (code !== undefined) assert.equal(data.code, code, `pusher:error code: ${JSON.stringify(frame)}`);
  return data;
}

// {"event":"pusher:subscription_error","channel":ch,"data":{"type":"AuthError","error":"...","status":401}}
export function assertSubscriptionError(frame, channel, { type, status } = {}) {
  assert.equal(frame.event, 'pusher:subscription_error', `expected subscription_error, got ${JSON.stringify(frame)}`);
  assert.equal(frame.channel, channel);
  const data = parseMaybe(frame.data);
  assert.ok(data && typeof data === 'object', `subscription_error data: ${JSON.stringify(frame)}`);
  assert.equal(typeof data.error, 'string');
  assert.ok(data.error.length > 0, 'subscription_error with an empty error message');
  if (type !== undefined) assert.equal(data.type, type, `subscription_error type: ${JSON.stringify(frame)}`);
  if (status !== undefined) assert.equal(data.status, status, `subscription_error status: ${JSON.stringify(frame)}`);
  return data;
}

export function assertSubscribed(frame, channel) {
  assert.equal(
    frame.event,
    'pusher_internal:subscription_succeeded',
    `expected subscription_succeeded on ${channel}, got ${JSON.stringify(frame)}`,
  );
  assert.equal(frame.channel, channel);
  return frame;
}

// Event names in a pusher-js client's received list (optionally on one channel).
export function eventNames(client, channel) {
  return client.received.filter((m) => channel === undefined || m.channel === channel).map((m) => m.event);
}
