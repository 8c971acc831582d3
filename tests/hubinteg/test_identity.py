#!/usr/bin/python3
# Who a hub connection is: connect with HS256, RS256 and ES256 tokens (keys in PEM files the
# test writes) and every refusal (alg none, RS->HS confusion, bad signature, expired, nbf,
# audience, issuer, oversize, garbage), the connect timeout and a first request that is not
# connect, the connect webhook (answer, refusal, backend down), refresh, and a token expiring
# mid-session. Tokens come from python3-jwt, never from wshub.

import base64
import hashlib
import hmac
import json
import os
import tempfile
import time
import unittest

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from wshubtest import hubtest
from wshubtest.hubtest import CID, EPOCH, HS_SECRET, Between, Regex, err, hub_config, mint, ok, subscribed, token


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_by_hand(header, claims, secret):
    """A token HMAC-signed with any bytes as the secret (python3-jwt refuses a PEM as one)."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


class Keys:
    """An RSA and an EC P-256 key pair; the public halves as PEM files in a temporary dir."""

    def __init__(self):
        self.dir = tempfile.TemporaryDirectory(prefix="wshub-keys-")
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.rsa_public_pem = self.rsa.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.ec_public_pem = self.ec.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.rsa_file = os.path.join(self.dir.name, "rs256.pem")
        self.ec_file = os.path.join(self.dir.name, "es256.pem")
        with open(self.rsa_file, "wb") as f:
            f.write(self.rsa_public_pem)
        with open(self.ec_file, "wb") as f:
            f.write(self.ec_public_pem)


class Identity(hubtest.HubTestCase):

    @classmethod
    def setUpClass(cls):
        cls.keys = Keys()  # once: an RSA key takes a while to make

    @classmethod
    def tearDownClass(cls):
        cls.keys.dir.cleanup()

    def start_jwt_hub(self, jwt_keys=None, jwt_policy=None, **args):
        keys = jwt_keys if jwt_keys is not None else [
            {"alg": "RS256", "file": self.keys.rsa_file},
            {"alg": "ES256", "file": self.keys.ec_file},
            {"alg": "HS256", "secret": HS_SECRET}]
        return self.start_hub(jwt_keys=keys, jwt_policy=jwt_policy, **args)

    async def refused_connect(self, token_, code, msg, close_code):
        client = await self.open()
        answer = await client.call("connect", token=token_)
        await self.refused(client, answer, code, msg, close_code)

    # -- valid tokens ------------------------------------------------------------------------

    async def test_hs256_connect_answer_has_every_field(self):
        self.start_jwt_hub()
        exp = int(time.time()) + 600
        client = await self.open()
        answer = await client.call("connect", client={"sdk": "py", "version": "1"}, token=mint(
            {"sub": "alice", "exp": exp, "device": "phone-1", "info": {"name": "Alice"}}))
        # A device has an inbox: a first connect finds it empty.
        self.assertEqual(answer, ok(1, cid=CID, user="alice", device="phone-1",
                                    hb={"iv": 25000, "to": 10000}, exp=exp * 1000, subs={},
                                    inbox={"ep": Regex("[0-9a-f]{8}"), "head": 0, "pending": 0}))
        self.assertEqual(client.messages, [])

    async def test_rs256_and_es256_tokens_connect(self):
        self.start_jwt_hub()
        exp = int(time.time()) + 600
        for alg, key, user in (("RS256", self.keys.rsa, "rsa-user"), ("ES256", self.keys.ec, "ec-user")):
            client = await self.open()
            answer = await client.call("connect", token=mint({"sub": user, "exp": exp}, key, alg))
            self.assertEqual(answer, ok(1, cid=CID, user=user, device="", hb={"iv": 25000, "to": 10000},
                                        exp=exp * 1000, subs={}), alg)
        self.assertEqual(self.metric("wshub_hub_connected"), 2)

    async def test_connect_subs_answer_per_channel(self):
        self.start_jwt_hub(jwt_keys=[{"alg": "HS256", "secret": HS_SECRET}])
        status, placed = self.hub.api("POST", "/api/publish", {"channel": "room", "data": {"n": 1}})
        self.assertEqual((status, placed), (200, {"epoch": EPOCH, "offset": 1}))
        client, answer = await self.connect(subs={
            "room": {"since": {"ep": placed["epoch"], "off": 1}},
            "lobby": {"since": {"ep": "00000000", "off": 7}},
            "anyone:hall": {},
            "nowhere:x": {},
            "bad name": {},
            "hook:y": {},
        })
        self.assertEqual(answer["subs"], {
            "room": subscribed(ep=placed["epoch"], off=1, rec=True),
            "lobby": subscribed(),
            "anyone:hall": subscribed(),
            "nowhere:x": {"err": {"code": 102, "msg": "no namespace 'nowhere' is configured"}},
            "bad name": {"err": {"code": 107, "msg": Regex("the channel name has a character outside .*")}},
            "hook:y": {"err": {"code": 108, "msg": "the namespace asks a subscribe webhook and none is configured"}},
        })
        # The subscriptions are live: the next publication reaches the client with offset 2.
        status, placed = self.hub.api("POST", "/api/publish", {"channel": "room", "data": {"n": 2}})
        self.assertEqual(status, 200, placed)
        self.assertEqual(await client.push("pub", ch="room"),
                         {"t": "pub", "ch": "room", "off": 2, "data": {"n": 2}, "ts": Between(1e12, 1e13)})

    # -- refusals ----------------------------------------------------------------------------

    async def test_alg_none_is_refused(self):
        self.start_jwt_hub()
        unsigned = mint(hubtest.claims_for("alice"), None, "none")
        await self.refused_connect(unsigned, 101, Regex("alg_none: .+"), 3500)
        self.assert_log(r"hub \S+: connect refused: alg_none")
        self.assertEqual(self.metric("wshub_hub_closes_total", code="3500"), 1)
        self.assertEqual(self.metric("wshub_hub_errors_total", code="101"), 1)

    async def test_rs256_public_key_as_hs256_secret_is_refused(self):
        # Algorithm confusion: an HS256 token whose "secret" is the RS256 public key.
        claims = hubtest.claims_for("mallory")
        forged = hs256_by_hand({"alg": "HS256", "typ": "JWT"}, claims, self.keys.rsa_public_pem)
        self.start_jwt_hub(jwt_keys=[{"alg": "RS256", "file": self.keys.rsa_file}])
        await self.refused_connect(forged, 101, Regex("alg_not_allowed: .+"), 3500)
        # With an HS256 key configured too, the forged token is checked with it and fails.
        forged_with_kid = hs256_by_hand({"alg": "HS256", "kid": "rsa"}, claims, self.keys.rsa_public_pem)
        self.hub.stop()
        self.start_jwt_hub(jwt_keys=[{"alg": "RS256", "kid": "rsa", "file": self.keys.rsa_file},
                                     {"alg": "HS256", "secret": HS_SECRET}])
        await self.refused_connect(forged, 101, Regex("bad_signature: .+"), 3500)
        await self.refused_connect(forged_with_kid, 101, Regex("alg_key_mismatch: .+"), 3500)

    async def test_bad_signature_is_refused(self):
        self.start_jwt_hub()
        other = mint(hubtest.claims_for("alice"), "another-secret-of-at-least-32-bytes!!")
        await self.refused_connect(other, 101, Regex("bad_signature: .+"), 3500)
        rsa_other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        await self.refused_connect(mint(hubtest.claims_for("alice"), rsa_other, "RS256"), 101,
                                   Regex("bad_signature: .+"), 3500)

    async def test_expired_token_gets_109_and_3005(self):
        self.start_jwt_hub()
        await self.refused_connect(token("alice", ttl=-60), 109, Regex("expired: .+"), 3005)
        self.assertEqual(self.metric("wshub_hub_closes_total", code="3005"), 1)
        self.assertEqual(self.metric("wshub_hub_errors_total", code="109"), 1)

    async def test_token_without_exp_where_allowed(self):
        self.start_jwt_hub(jwt_policy={"allow_no_exp": True})
        client = await self.open()
        answer = await client.call("connect", token=mint({"sub": "alice"}))
        self.assertEqual(answer, ok(1, cid=CID, user="alice", device="", hb={"iv": 25000, "to": 10000}, subs={}))
        self.hub.stop()
        self.start_jwt_hub()
        await self.refused_connect(mint({"sub": "alice"}), 101, Regex("missing_exp: .+"), 3500)

    async def test_token_not_yet_valid_is_refused(self):
        self.start_jwt_hub()
        await self.refused_connect(token("alice", nbf=int(time.time()) + 3600), 101,
                                   Regex("not_yet_valid: .+"), 3500)

    async def test_audience_and_issuer_are_checked_when_configured(self):
        self.start_jwt_hub(jwt_policy={"audience": ["push"], "issuer": "auth.example"})
        await self.refused_connect(token("alice", aud="billing", iss="auth.example"), 101,
                                   Regex("wrong_audience: .+"), 3500)
        await self.refused_connect(token("alice", aud="push", iss="evil.example"), 101,
                                   Regex("wrong_issuer: .+"), 3500)
        await self.refused_connect(token("alice", iss="auth.example"), 101, Regex("wrong_audience: .+"), 3500)
        client, answer = await self.connect(token("alice", aud=["other", "push"], iss="auth.example"))
        self.assertEqual(answer["user"], "alice")

    async def test_oversize_token_is_refused(self):
        self.start_jwt_hub()
        big = token("alice", info={"pad": "x" * 9000})
        self.assertGreater(len(big), 8192)
        await self.refused_connect(big, 101, Regex("too_large: .+"), 3500)

    async def test_garbage_tokens_are_refused(self):
        self.start_jwt_hub()
        not_json = f"{b64url(b'not json')}.{b64url(b'{}')}.c2ln"
        for garbage, reason in (("garbage", "malformed"), (not_json, "bad_json"), ("a.b.c", "bad_base64"),
                                ("eyJhbGciOiJIUzI1NiJ9..", "malformed")):
            await self.refused_connect(garbage, 101, Regex(f"{reason}: .+"), 3500)
        self.assertEqual(self.metric("wshub_hub_closes_total", code="3500"), 4)

    async def test_no_token_without_anonymous_is_refused(self):
        self.start_jwt_hub()
        client = await self.open()
        answer = await client.call("connect")
        await self.refused(client, answer, 101, "a token is required", 3500)

    # -- the first request -------------------------------------------------------------------

    async def test_no_connect_within_the_timeout_closes_3501(self):
        self.start_jwt_hub(hub={"connect_timeout_ms": 300})
        client = await self.open()
        started = time.monotonic()
        self.assertEqual(await client.wait_closed(), (3501, "no connect request within the connect timeout"))
        self.assertGreaterEqual(time.monotonic() - started, 0.25)
        self.assertEqual(client.messages, [])
        self.assertEqual(self.metric("wshub_hub_closes_total", code="3501"), 1)
        self.assert_log(r"hub \S+: no connect within 300 ms")

    async def test_another_request_first_gets_101_and_3501(self):
        self.start_jwt_hub()
        client = await self.open()
        answer = await client.call("subscribe", ch="room")
        await self.refused(client, answer, 101, "connect first", 3501)
        # A pong or a heartbeat ping without id before connect is ignored; connect still works.
        client = await self.open()
        await client.send({"t": "pong"})
        await client.send({"t": "ping"})
        answer = await client.call("connect", token=token("alice"))
        self.assertEqual(answer["t"], "ok")

    async def test_second_connect_is_refused(self):
        self.start_jwt_hub()
        client, _ = await self.connect()
        self.assertEqual(await client.call("connect", token=token("alice")), err(2, 107, "already connected"))
        await client.barrier()

    # -- the connect webhook -----------------------------------------------------------------

    async def test_connect_webhook_decides(self):
        backend = self.start_backend([{"type": "connect", "action": "token"}])
        self.start_hub(jwt_keys=[], webhook_url=backend.url, webhook_events=["connect"])
        exp = int(time.time()) + 600
        decided = json.dumps({"user": "bob", "device": "tablet", "info": {"team": "b"}, "exp": exp})
        client = await self.open()
        answer = await client.call("connect", token=decided, client={"sdk": "py", "version": "2"})
        self.assertEqual(answer, ok(1, cid=CID, user="bob", device="tablet", hb={"iv": 25000, "to": 10000},
                                    exp=exp * 1000, subs={},
                                    inbox={"ep": Regex("[0-9a-f]{8}"), "head": 0, "pending": 0}))
        [call] = backend.calls("connect")
        self.assertTrue(call["sig_ok"], call["sig_problem"])
        self.assertEqual(call["content_type"], "application/json")
        self.assertEqual(call["body"], {"type": "connect", "cid": answer["cid"], "token": decided,
                                        "client": {"sdk": "py", "version": "2"}})

    async def test_requests_pipelined_behind_a_webhook_decided_connect(self):
        backend = self.start_backend([{"type": "connect", "action": "token", "delay": 0.3}])
        self.start_hub(jwt_keys=[], webhook_url=backend.url, webhook_events=["connect"])
        client = await self.open()
        # The connect comes first, as the protocol asks; the subscribe needs no wait for its answer.
        await client.send([{"t": "connect", "id": 1, "token": json.dumps({"user": "bob"})},
                           {"t": "subscribe", "id": 2, "ch": "room"}])
        answer = await client.answer(1)
        self.assertEqual(answer, ok(1, cid=CID, user="bob", device="", hb={"iv": 25000, "to": 10000}, subs={}))
        self.assertEqual(await client.answer(2), ok(2, **subscribed()))

    async def test_connect_webhook_refusal_closes_3502(self):
        backend = self.start_backend([{"type": "connect", "body": {"error": {"code": 4003, "message": "banned"}}}])
        self.start_hub(jwt_keys=[], webhook_url=backend.url, webhook_events=["connect"])
        client = await self.open()
        answer = await client.call("connect", token="anything")
        await self.refused(client, answer, 4003, "banned", 3502)
        self.assertEqual(self.metric("wshub_hub_closes_total", code="3502"), 1)

    async def test_connect_webhook_down_gives_116_and_3000(self):
        self.start_hub(jwt_keys=[], webhook_url=hubtest.refused_url(), webhook_events=["connect"])
        client = await self.open()
        answer = await client.call("connect", token="anything")
        await self.refused(client, answer, 116, "backend unavailable", 3000, retry=True)
        self.assert_log(r"hub: connect webhook failed: connect_failed")
        self.assertEqual(self.metric("wshub_hub_errors_total", code="116"), 1)
        self.assertEqual(self.metric("wshub_hub_closes_total", code="3000"), 1)

    async def test_connect_webhook_garbage_gives_116_and_3000(self):
        backend = self.start_backend([{"type": "connect", "action": "raw", "text": "<html>oops"}])
        self.start_hub(jwt_keys=[], webhook_url=backend.url, webhook_events=["connect"])
        client = await self.open()
        answer = await client.call("connect", token="anything")
        await self.refused(client, answer, 116, "backend unavailable", 3000, retry=True)
        self.assert_log(r"hub: connect webhook failed: the answer is not JSON")

    async def test_connect_webhook_slower_than_connect_timeout(self):
        backend = self.start_backend([{"type": "connect", "action": "hang"}])
        self.start_hub(jwt_keys=[], webhook_url=backend.url, webhook_events=["connect"],
                       webhook={"timeout_ms": 10000}, hub={"connect_timeout_ms": 500})
        client = await self.open()
        id_ = await client.request("connect", token="anything")
        # The connect is owed an answer: 116 (retry) before the close, as for any slow backend.
        self.assertEqual(await client.answer(id_), err(id_, 116, "backend unavailable", retry=True))
        self.assertEqual(await client.wait_closed(), (3000, "the connect webhook did not answer in time"))

    # -- refresh and expiry ------------------------------------------------------------------

    async def test_refresh_replaces_the_token(self):
        self.start_jwt_hub(jwt_policy={"leeway_s": 0})
        client, answer = await self.connect(token("alice", device="d1", ttl=60))
        later = int(time.time()) + 7200
        self.assertEqual(await client.call("refresh", token=mint({"sub": "alice", "device": "d1", "exp": later})),
                         ok(2, exp=later * 1000))
        self.assertEqual(await client.call("refresh", token=token("bob", device="d1")),
                         err(3, 101, "the new token names another user or device"))
        self.assertEqual(await client.call("refresh", token=token("alice", device="d2")),
                         err(4, 101, "the new token names another user or device"))
        self.assertEqual(await client.call("refresh", token=token("alice", device="d1", ttl=-60)),
                         err(5, 109, Regex("expired: .+")))
        self.assertEqual(await client.call("refresh", token="garbage"), err(6, 101, Regex("malformed: .+")))
        # None of the refused refreshes ended the session.
        await client.barrier()

    async def test_token_expiring_mid_session_closes_3005_unless_refreshed(self):
        self.start_jwt_hub(jwt_policy={"leeway_s": 0})
        exp = int(time.time()) + 2
        expiring, answer = await self.connect(mint({"sub": "alice", "exp": exp}))
        self.assertEqual(answer["exp"], exp * 1000)
        refreshed, _ = await self.connect(mint({"sub": "bob", "exp": exp}))
        self.assertEqual(await refreshed.call("refresh", token=token("bob", ttl=3600)),
                         ok(2, exp=Between((exp + 3000) * 1000, (exp + 3700) * 1000)))
        self.assertEqual(await expiring.wait_closed(10), (3005, "token expired"))
        self.assertEqual(expiring.messages, [{"t": "disconnect", "code": 3005, "reason": "token expired"}])
        self.assertGreaterEqual(time.time(), exp - 0.05)
        await refreshed.barrier()
        self.assertEqual(self.metric("wshub_hub_closes_total", code="3005"), 1)


if __name__ == "__main__":
    hubtest.main()
