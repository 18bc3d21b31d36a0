// Issue 5: a Caddy reload restarts FrankenPHP's PHP threads and replaces the hub; PHP
// publishes keep reaching clients, and they reach the new configuration's apps.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFrankenPHP } from './support/frankenphp.js';
import { freePort } from '../support/server.js';
import { connectPusher, subscribe, nextEvent, closeAllClients, uniq } from '../support/clients.js';

test('after reloads with changed configs, PHP publishes reach clients of the new hub', async () => {
  const server = await startFrankenPHP({ adminPort: await freePort() });
  try {
    const name = uniq('reload-');
    const before = await connectPusher(server);
    const got = nextEvent(await subscribe(before, name), 'e');
    assert.deepEqual((await server.php('publish.php', [['publish', server.app.id, name, 'e', '{"n":1}']])).json, [0]);
    assert.deepEqual((await got).data, { n: 1 });

    const second = { id: 'second-app', key: 'second-key', secret: 'second-secret' };
    await server.reload({ app: second });
    // The first app is gone with the old configuration.
    const gone = await server.php('publish.php', [['publish', server.app.id, name, 'e', '{}']]);
    assert.deepEqual(gone.json, [1], `${gone.status} ${gone.body}\n${server.output()}`);

    const after = await connectPusher({ ...server, app: second });
    const got2 = nextEvent(await subscribe(after, name), 'e');
    assert.deepEqual((await server.php('publish.php', [['publish', second.id, name, 'e', '{"n":2}']])).json, [0]);
    assert.deepEqual((await got2).data, { n: 2 });

    // And once more, back to the first app.
    await server.reload({});
    const again = await connectPusher(server);
    const got3 = nextEvent(await subscribe(again, name), 'e');
    assert.deepEqual((await server.php('publish.php', [['multi', server.app.id, JSON.stringify([name]), 'e', '{"n":3}']])).json, [0]);
    assert.deepEqual((await got3).data, { n: 3 });
  } finally {
    await closeAllClients();
    await server.stop();
  }
});
