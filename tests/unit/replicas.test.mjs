// The demo's ?replicas= (web/demo/replicas.js): which servers of a cluster the panels
// are spread over, and the refusal of anything that is not an http(s) URL.
//
// Run: node --test tests/unit/   (part of `just test`)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replicaBases } from '../../web/demo/replicas.js';

test('no parameter: every panel stays on the page\'s server', () => {
  assert.deepEqual(replicaBases(''), { bases: [] });
  assert.deepEqual(replicaBases('?replicas='), { bases: [] });
});

test('each replica becomes a base URL ending in a slash', () => {
  const { bases } = replicaBases('?replicas=http://127.0.0.1:3001, http://127.0.0.1:3002/api,,');
  assert.deepEqual(bases, ['http://127.0.0.1:3001/', 'http://127.0.0.1:3002/']);
});

test('a bad entry is named, and nothing is placed', () => {
  // The page writes the error from its key, in the shown language (web/i18n-demo.js).
  assert.deepEqual(replicaBases('?replicas=http://a:1,3002').error, { key: 'demo.replicasNotUrl', params: { entry: '"3002"' } });
  assert.deepEqual(replicaBases('?replicas=ftp://a:1').error, { key: 'demo.replicasNotHttp', params: { entry: '"ftp://a:1"' } });
});
