'use strict';
// X-Wshub-Signature: "t=UNIX,v1=HEX", the lowercase hex HMAC-SHA256, keyed with the
// [[webhook]] secret, of the decimal t, a dot and the raw body (docs/webhooks.md, "Signing").
const { createHmac, timingSafeEqual } = require('node:crypto');
const { SignatureError } = require('./errors');

/** How far t may be from this clock, in seconds: a captured call cannot be replayed later. */
const DEFAULT_TOLERANCE_S = 300;
/** The most v1 values read from one header, as the server's own verifier. */
const MAX_SIGNATURES = 8;
const HEX_DIGEST = /^[0-9a-fA-F]{64}$/;

function digest(secret, stamp, body) {
  return createHmac('sha256', secret).update(stamp).update('.').update(body).digest();
}

/**
 * The X-Wshub-Signature value wshub would send for `body` at `unixSeconds`; for testing handlers.
 * @param {string|Buffer} secret
 * @param {string|Buffer} body
 */
function sign(secret, body, unixSeconds = Math.floor(Date.now() / 1000)) {
  const stamp = String(Math.trunc(unixSeconds));
  return `t=${stamp},v1=${digest(secret, stamp, body).toString('hex')}`;
}

/**
 * Checks `header` against the raw `body` as received (before any JSON parsing): one t of
 * digits, 1 to 8 v1 values of 64 hex digits, unknown keys ignored; t within `toleranceS` of
 * `nowS`; one v1 equal (crypto.timingSafeEqual) to the HMAC under one of `secrets` (several
 * while a secret is rotated). Returns nothing; throws a SignatureError naming the reason.
 * @param {string|undefined} header
 * @param {string|Buffer} body
 * @param {string|Buffer|Array<string|Buffer>} secrets
 */
function verifySignature(header, body, secrets, { toleranceS = DEFAULT_TOLERANCE_S, nowS = Date.now() / 1000 } = {}) {
  if (!header) throw new SignatureError('missing', 'no X-Wshub-Signature header');
  const malformed = () => new SignatureError('malformed', 'X-Wshub-Signature is not t=UNIX,v1=HEX(64)');
  let stamp;
  const given = [];
  for (const part of header.split(',')) {
    const trimmed = part.replace(/^[ \t]+|[ \t]+$/g, '');
    const equals = trimmed.indexOf('=');
    if (equals < 0) throw malformed();
    const key = trimmed.slice(0, equals);
    const value = trimmed.slice(equals + 1);
    if (key === 't') {
      if (stamp !== undefined || !/^[0-9]{1,18}$/.test(value)) throw malformed();
      stamp = value;
    } else if (key === 'v1') {
      if (!HEX_DIGEST.test(value) || given.length === MAX_SIGNATURES) throw malformed();
      given.push(Buffer.from(value, 'hex'));
    }
  }
  if (stamp === undefined || given.length === 0) throw malformed();
  if (Math.abs(nowS - Number(stamp)) > toleranceS) {
    throw new SignatureError('outside_tolerance', "X-Wshub-Signature's t is too far from this clock (a replay, or clocks apart)");
  }
  let matched = false;
  for (const secret of Array.isArray(secrets) ? secrets : [secrets]) {
    const expected = digest(secret, stamp, body);
    for (const signature of given) matched = timingSafeEqual(expected, signature) || matched;
  }
  if (!matched) throw new SignatureError('mismatch', 'X-Wshub-Signature does not match the body (another secret, or a changed body)');
}

module.exports = { sign, verifySignature, DEFAULT_TOLERANCE_S };
