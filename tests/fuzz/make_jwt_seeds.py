#!/usr/bin/env python3
"""Writes the committed seeds of fuzz_jwt under tests/fuzz/corpus/fuzz_jwt/ (see README.md).

Tokens are built here with Python's base64, json and hmac modules, not by the code under test,
with the target's fixed secret and time, so raw-mode seeds start from tokens it accepts.
Layout (fuzz_jwt.cpp): byte 0 flags — bit 0 signed mode, bit 1 small limits, bit 2 audience
"push"/"hub" and issuer "auth", bit 3 no exp allowed, bits 4-5 key set (0 HS256, 1 HS256 with
kid "hs", 2 HS256 + ES256). Raw mode: the token. Signed mode: byte 1 the header's length, then
the header JSON and the claims JSON.
"""
import base64
import hashlib
import hmac
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET = b"fuzz-secret-0123456789-abcdefghijklmnop"
NOW = 1700000000
SIGNED, SMALL, AUDIENCE, NO_EXP, KID, ES = 1, 2, 4, 8, 0x10, 0x20


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def token(header, claims, secret=SECRET):
    head = b64(json.dumps(header, separators=(",", ":")).encode())
    body = b64(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    signing_input = head + b"." + body
    return signing_input + b"." + b64(hmac.new(secret, signing_input, hashlib.sha256).digest())


def signed(flags, header_text, claims_text):
    header_text = header_text.encode()
    return bytes([flags | SIGNED, len(header_text)]) + header_text + claims_text.encode()


HS = {"alg": "HS256", "typ": "JWT"}
FULL = {"sub": "user-1", "iat": NOW, "exp": NOW + 3600, "device": "phone",
        "channels": ["news", "chat:1"], "info": {"name": "Zoë", "n": [1, 2]}}
SHORT = {"sub": "u1", "exp": NOW + 60}

SEEDS = {
    "hs256_full": bytes([0]) + token(HS, FULL),
    "hs256_kid": bytes([KID]) + token(dict(HS, kid="hs"), FULL),
    "hs256_audience_issuer": bytes([AUDIENCE]) + token(HS, dict(SHORT, aud=["x", "push"],
                                                                iss="auth")),
    "hs256_small_limits": bytes([SMALL]) + token(HS, dict(SHORT, channels=["a", "b", "c"])),
    "hs256_no_exp": bytes([NO_EXP]) + token(HS, {"sub": "svc"}),
    "hs256_expired": bytes([0]) + token(HS, dict(SHORT, exp=NOW - 10)),
    "hs256_not_yet_valid": bytes([0]) + token(HS, dict(SHORT, nbf=NOW + 100)),
    "hs256_other_secret": bytes([0]) + token(HS, FULL, b"another-secret-0123456789-abcdefgh"),
    "es256_random_signature": bytes([ES]) + b64(b'{"alg":"ES256"}') + b"." +
                              b64(json.dumps(SHORT).encode()) + b"." + b64(bytes(range(64))),
    "alg_none": bytes([0]) + b64(b'{"alg":"none"}') + b"." + b64(json.dumps(SHORT).encode()) +
                b".",
    "garbage": bytes([0]) + b"GET / HTTP/1.1",
    "padded": bytes([0]) + token(HS, SHORT) + b"==",
    "jwe_five_parts": bytes([0]) + b"eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d",
    "signed_full": signed(0, '{"alg":"HS256"}', json.dumps(FULL, ensure_ascii=False)),
    "signed_kid": signed(KID, '{"alg":"HS256","kid":"hs"}', json.dumps(SHORT)),
    "signed_crit": signed(0, '{"alg":"HS256","crit":["exp"]}', json.dumps(SHORT)),
    "signed_duplicate_sub": signed(0, '{"alg":"HS256"}',
                                   '{"sub":"a","sub":"b","exp":%d}' % (NOW + 60)),
    "signed_types": signed(0, '{"alg":"HS256"}',
                           '{"sub":"a","exp":1.7e9,"nbf":-1,"iat":18446744073709551616,'
                           '"aud":["p",5],"channels":[""],"info":[]}'),
    "signed_nested_info": signed(0, '{"alg":"HS256"}',
                                 '{"sub":"a","exp":%d,"info":%s}' % (
                                     NOW + 60, '{"a":' * 40 + "1" + "}" * 40)),
    "signed_small_limits": signed(SMALL | AUDIENCE, '{"alg":"HS256"}',
                                  '{"sub":"toolongname","exp":%d,"aud":"hub","iss":"auth",'
                                  '"info":{"k":"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"}}'
                                  % (NOW + 60)),
    "signed_escapes": signed(0, '{"alg":"HS\\u0032\\u00356"}',
                             '{"sub":"\\ud83d\\ude00\\n","exp":%d,"device":"d\\"q"}' % (NOW + 60)),
}

directory = os.path.join(HERE, "corpus", "fuzz_jwt")
os.makedirs(directory, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)
