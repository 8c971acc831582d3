'use strict';
// @wshub/node: wshub's backend HTTP API, its typed errors, webhook signature verification and
// a webhook request handler. No dependencies; Node 18 or later.
const { WshubClient } = require('./lib/client');
const { Codes, WshubError, WshubTransportError, SignatureError, WebhookRefusal, isRetryable } = require('./lib/errors');
const { sign, verifySignature } = require('./lib/signature');
const { createWebhookHandler, refuse } = require('./lib/webhook');

module.exports = {
  WshubClient,
  Codes,
  WshubError,
  WshubTransportError,
  SignatureError,
  WebhookRefusal,
  isRetryable,
  sign,
  verifySignature,
  createWebhookHandler,
  refuse,
};
