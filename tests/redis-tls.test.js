// Redis by host (redis_host, redis_password, redis_db, redis_tls), against a real redis-server
// that listens with TLS (Debian's redis is built with it) on a throwaway certificate made here
// with the openssl CLI. The nodes trust it the way the README says to trust a private CA: Go's
// system pool, with SSL_CERT_FILE pointing at the CA.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisServer } from './support/redis.js';
import { brokerBecomes, freePort, startServer } from './support/server.js';
import { connectPusher, createPublisher, nextEvent, subscribe, uniq, closeAllClients } from './support/clients.js';

const PASSWORD = 'redis-test-password';
const DB = 3;
let dir;
let redis;
let tlsPort;
const nodes = [];

// A CA and a certificate for 127.0.0.1 signed by it (P-256 keys: quick to make).
function makeCertificates() {
  const ssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=pogo test CA');
  ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'redis.key', '-out', 'redis.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  ssl('x509', '-req', '-in', 'redis.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'redis.pem', '-days', '1', '-extfile', 'san.ext');
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pogo-redis-tls-'));
  makeCertificates();
  tlsPort = await freePort();
  redis = new RedisServer({
    password: PASSWORD,
    args: ['--tls-port', String(tlsPort), '--tls-cert-file', join(dir, 'redis.pem'), '--tls-key-file', join(dir, 'redis.key'),
      '--tls-ca-cert-file', join(dir, 'ca.pem'), '--tls-auth-clients', 'no', '--requirepass', PASSWORD],
  });
  await redis.start();
});

after(async () => {
  await closeAllClients();
  for (const n of nodes) await n.stop();
  if (redis) await redis.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function node(name, { tls = true, trust = true } = {}) {
  const server = await startServer({
    name,
    options: [`redis_host 127.0.0.1:${tlsPort}`, `redis_password ${PASSWORD}`, `redis_db ${DB}`, `redis_tls ${tls}`],
    env: trust ? { SSL_CERT_FILE: join(dir, 'ca.pem') } : { SSL_CERT_FILE: join(dir, 'redis.key') },
  });
  nodes.push(server);
  return server;
}

test('two nodes share events through redis_host with redis_tls, redis_password and redis_db', async () => {
  const a = await node('node A');
  const b = await node('node B');
  await brokerBecomes(a, 'up');
  await brokerBecomes(b, 'up');
  // Both nodes are Redis clients on the TLS port, authenticated, on database 3.
  const clients = String(await redis.command('CLIENT', 'LIST'));
  const ours = clients.split('\n').filter((l) => / db=3 /.test(l));
  assert.ok(ours.length >= 2, `no client on db ${DB}:\n${clients}`);

  const client = await connectPusher(b);
  const channel = await subscribe(client, uniq('tls-'));
  const got = nextEvent(channel, 'across', { timeout: 5000 });
  // The other node learns of the subscription through Redis: retry the publish until it arrives.
  const publisher = createPublisher(a);
  const deadline = Date.now() + 5000;
  let result;
  do {
    await publisher.trigger(channel.name, 'across', { via: 'tls' });
    result = await Promise.race([got, new Promise((r) => setTimeout(() => r(null), 300))]);
  } while (!result && Date.now() < deadline);
  assert.deepEqual(result?.data, { via: 'tls' });
});

test('redis_tls off against the TLS port, or a certificate the system pool does not trust, leaves the broker down', async () => {
  const plain = await node('plain to TLS port', { tls: false });
  const untrusted = await node('untrusted CA', { trust: false });
  await brokerBecomes(plain, 'down');
  await brokerBecomes(untrusted, 'down');
  // And they stay down: give them time to have connected if they could.
  await new Promise((r) => setTimeout(r, 1500));
  for (const n of [plain, untrusted]) {
    const health = await (await fetch(`${n.url}/pogo/health`)).json();
    assert.equal(health.broker, 'down', `${n.name}: ${JSON.stringify(health)}`);
  }
});
