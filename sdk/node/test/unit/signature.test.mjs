// sign and verifySignature against a vector computed with Python's hmac module, and every way a
// header can be refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import wshub from '../../index.js';

const { sign, verifySignature, SignatureError } = wshub;
const secret = 'webhook-secret-16b';
const body = '{"type":"rpc","cid":"0-1","user":"operator","device":"","m":"command","data":{"device":"term-1","action":"toggle_led"}}';
// HMAC-SHA256(secret, "1700000000." + body), computed with Python's hmac module.
const v1 = 'afe812e416c58d0a9c008b5410e1628518dfff44887556a8209248910c7db2af';
const at = 1700000000;
const good = `t=${at},v1=${v1}`;
const wrong = '0'.repeat(64);

test('sign matches an independent HMAC', () => {
  assert.equal(sign(secret, body, at), good);
  assert.equal(sign(Buffer.from(secret), Buffer.from(body), at), good);
});

test('valid signatures', () => {
  const valid = {
    'as signed': [good, body, secret, at],
    'uppercase hex': [`t=${at},v1=${v1.toUpperCase()}`, body, secret, at],
    'a Buffer body': [good, Buffer.from(body), secret, at],
    '299 s late': [good, body, secret, at + 299],
    '299 s early': [good, body, secret, at - 299],
    'wshub rotating: the second v1 matches': [`t=${at},v1=${wrong},v1=${v1}`, body, secret, at],
    'backend rotating: the second secret matches': [good, body, ['another-secret-16b', secret], at],
    'unknown keys and spaces ignored': [`t=${at}, v2=abc ,\tv1=${v1}`, body, secret, at],
  };
  for (const [name, [header, b, s, now]] of Object.entries(valid)) {
    assert.doesNotThrow(() => verifySignature(header, b, s, { nowS: now }), name);
  }
});

test('refused signatures name their reason', () => {
  const refused = {
    missing: [undefined, body, secret, at, 'missing'],
    empty: ['', body, secret, at, 'missing'],
    'no v1': [`t=${at}`, body, secret, at, 'malformed'],
    'no t': [`v1=${v1}`, body, secret, at, 'malformed'],
    't not digits': [`t=-${at},v1=${v1}`, body, secret, at, 'malformed'],
    'two t': [`t=${at},t=${at},v1=${v1}`, body, secret, at, 'malformed'],
    'v1 too short': [`t=${at},v1=${v1.slice(2)}`, body, secret, at, 'malformed'],
    'v1 not hex': [`t=${at},v1=${'zz'.repeat(32)}`, body, secret, at, 'malformed'],
    'a part without =': [`t=${at},v1`, body, secret, at, 'malformed'],
    'nine v1': [`t=${at}${`,v1=${wrong}`.repeat(8)},v1=${v1}`, body, secret, at, 'malformed'],
    '301 s late: a replay': [good, body, secret, at + 301, 'outside_tolerance'],
    '301 s early': [good, body, secret, at - 301, 'outside_tolerance'],
    'another secret': [good, body, 'another-secret-16b', at, 'mismatch'],
    'tampered body': [good, body.replace('term-1', 'term-2'), secret, at, 'mismatch'],
    'reformatted body': [good, ` ${body}`, secret, at, 'mismatch'],
    'tampered timestamp': [`t=${at + 1},v1=${v1}`, body, secret, at, 'mismatch'],
  };
  for (const [name, [header, b, s, now, reason]] of Object.entries(refused)) {
    assert.throws(() => verifySignature(header, b, s, { nowS: now }),
      (error) => error instanceof SignatureError && error.reason === reason, name);
  }
});

test('the tolerance is configurable', () => {
  assert.doesNotThrow(() => verifySignature(good, body, secret, { nowS: at + 1000, toleranceS: 1000 }));
  assert.throws(() => verifySignature(good, body, secret, { nowS: at + 2, toleranceS: 1 }), { reason: 'outside_tolerance' });
});
