#!/usr/bin/python3
"""Tokens for the JWT verifier's tests, made by a third party: Debian's python3-jwt (PyJWT) and
python3-cryptography, never by wshub's own code.

  jwt_tokens.py mint DIR     writes keys (DIR/*.pem, DIR/*.secret) and DIR/tokens.json: one case
                             per line of CASES below, each with the keyset and policy the test
                             verifies it under and the exact result expected.
  jwt_tokens.py check DIR FILE
                             verifies the tokens listed in FILE (minted by wshub) with PyJWT and
                             prints what PyJWT found, as JSON, for the reverse-direction test.

Attack tokens that no honest library makes (alg none, algorithm confusion, duplicate members)
are built by hand here, with Python's hmac module for their signatures.
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import time

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import NameOID

import datetime

NOW = int(time.time())
HS_SECRET = "wshub-test-secret-0123456789-abcdefghijklmnop"  # 45 bytes
SHORT_SECRET = "dev-secret"
OTHER_SECRET = "another-secret-that-is-long-enough-0123456789"


def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def pem_private(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def pem_public(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def self_signed(key):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wshub jwt test issuer")])
    start = datetime.datetime(2020, 1, 1)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1).not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=36500))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


def write(directory, name, data):
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def make_keys(directory):
    rsa1 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa2 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    ec1 = ec.generate_private_key(ec.SECP256R1())
    ec2 = ec.generate_private_key(ec.SECP256R1())
    ec384 = ec.generate_private_key(ec.SECP384R1())
    write(directory, "hs256.secret", HS_SECRET + "\n")
    write(directory, "short.secret", SHORT_SECRET)
    write(directory, "rs256_private.pem", pem_private(rsa1))
    write(directory, "rs256_public.pem", pem_public(rsa1))
    write(directory, "rs256_cert.pem", self_signed(rsa1))
    write(directory, "rs256_pkcs1_public.pem", rsa1.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.PKCS1))
    write(directory, "rs256_other_public.pem", pem_public(rsa2))
    write(directory, "rs1024_public.pem", pem_public(rsa_weak))
    write(directory, "es256_private.pem", pem_private(ec1))
    write(directory, "es256_public.pem", pem_public(ec1))
    write(directory, "es256_other_public.pem", pem_public(ec2))
    write(directory, "es384_public.pem", pem_public(ec384))
    return {"rs": rsa1, "rs2": rsa2, "es": ec1, "es2": ec2,
            "rs_public_pem": pem_public(rsa1), "es_public_pem": pem_public(ec1)}


def hand_built(header_json, claims_json, secret):
    """A token whose exact JSON text we choose, signed with HMAC-SHA256 by Python's hmac."""
    signing_input = b64url(header_json) + "." + b64url(claims_json)
    if isinstance(secret, str):
        secret = secret.encode()
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(mac)


def flip_signature_byte(token):
    head, claims, sig = token.split(".")
    raw = bytearray(b64url_decode(sig))
    raw[len(raw) // 2] ^= 0x01
    return head + "." + claims + "." + b64url(bytes(raw))


def swap_claims(token, claims):
    head, _, sig = token.split(".")
    return head + "." + b64url(json.dumps(claims)) + "." + sig


def es256_der(token):
    head, claims, sig = token.split(".")
    raw = b64url_decode(sig)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    return head + "." + claims + "." + b64url(der)


def non_canonical_tail(token):
    """Changes the unused low bits of the signature's last character, which canonical
    base64url leaves zero; a lenient decoder would still give the same bytes."""
    head, claims, sig = token.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(sig[-1])
    return head + "." + claims + "." + sig[:-1] + alphabet[last | 1]


def build_cases(keys):
    rs, rs2, es, es2 = keys["rs"], keys["rs2"], keys["es"], keys["es2"]
    rs_pem = pem_private(rs)
    rs2_pem = pem_private(rs2)
    es_pem = pem_private(es)
    es2_pem = pem_private(es2)
    base = {"sub": "user-1", "iat": NOW, "exp": NOW + 3600}
    full = dict(base, device="phone-7", channels=["news", "chat:room-1"],
                info={"name": "Ann", "level": 3, "tags": ["a", "b"]})

    def enc(claims, key=HS_SECRET, alg="HS256", headers=None):
        return jwt.encode(claims, key, algorithm=alg, headers=headers)

    def raw_claims(text, key=HS_SECRET, alg="HS256", headers=None):
        return jwt.api_jws.encode(text.encode(), key, algorithm=alg, headers=headers)

    hs_valid = enc(full)
    rs_valid = enc(full, rs_pem, "RS256")
    es_valid = enc(full, es_pem, "ES256")
    header_hs = json.dumps({"alg": "HS256", "typ": "JWT"})
    header_none = json.dumps({"alg": "none", "typ": "JWT"})
    claims_text = json.dumps(base)

    cases = []

    def case(name, token, expect, keyset="hs", policy="default", claims=None):
        entry = {"name": name, "token": token, "expect": expect, "keyset": keyset,
                 "policy": policy}
        if claims is not None:
            entry["claims"] = claims
        cases.append(entry)

    # Accepted, with the claims the verifier must report.
    full_expect = {"sub": "user-1", "device": "phone-7", "channels": ["news", "chat:room-1"],
                   "info": json.dumps(full["info"], separators=(",", ":")), "exp": NOW + 3600,
                   "iat": NOW}
    case("hs256_valid", hs_valid, "none", "hs", claims=full_expect)
    case("rs256_valid", rs_valid, "none", "rs", claims=full_expect)
    case("rs256_valid_certificate_key", rs_valid, "none", "rs_cert", claims=full_expect)
    case("es256_valid", es_valid, "none", "es", claims=full_expect)
    case("hs256_among_all_keys", hs_valid, "none", "all", claims=full_expect)
    case("rs256_among_all_keys", rs_valid, "none", "all", claims=full_expect)
    case("es256_among_all_keys", es_valid, "none", "all", claims=full_expect)
    case("minimal_claims", enc(base), "none", "hs",
         claims={"sub": "user-1", "exp": NOW + 3600, "iat": NOW})
    case("empty_channels_list", enc(dict(base, channels=[])), "none", "hs",
         claims={"sub": "user-1", "channels": [], "exp": NOW + 3600, "iat": NOW})
    case("unicode_sub", enc(dict(base, sub="用户-1")), "none", "hs",
         claims={"sub": "用户-1", "exp": NOW + 3600, "iat": NOW})
    case("info_kept_as_sent",
         raw_claims('{"sub":"user-1","exp":%d,"info": { "name" : "Ann",\n "n": [1, 2.50] }\n}'
                    % (NOW + 3600)), "none", "hs",
         claims={"sub": "user-1", "exp": NOW + 3600,
                 "info": '{ "name" : "Ann",\n "n": [1, 2.50] }'})
    case("info_with_escaped_name",
         raw_claims('{"sub":"user-1","exp":%d,"\\u0069nfo":{"a":"\\u00e9"}}' % (NOW + 3600)),
         "none", "hs", claims={"sub": "user-1", "exp": NOW + 3600, "info": '{"a":"\\u00e9"}'})
    case("unknown_claims_ignored", enc(dict(base, jti="x1", scope="read", extra={"a": [1]})),
         "none", "hs")
    case("fractional_exp", enc(dict(base, exp=NOW + 100.75)), "none", "hs",
         claims={"sub": "user-1", "exp": NOW + 100, "iat": NOW})
    case("exp_inside_leeway", enc(dict(base, exp=NOW - 3)), "none", "hs")
    case("nbf_inside_leeway", enc(dict(base, nbf=NOW + 3)), "none", "hs")
    case("nbf_past", enc(dict(base, nbf=NOW - 60)), "none", "hs")
    case("no_exp_allowed", enc({"sub": "user-1"}), "none", "hs", "allow_no_exp",
         claims={"sub": "user-1"})
    case("kid_hs", enc(base, headers={"kid": "hs-1"}), "none", "kids")
    case("kid_rs_second_key", enc(base, rs2_pem, "RS256", {"kid": "rs-2"}), "none", "kids")
    case("kid_es", enc(base, es_pem, "ES256", {"kid": "es-1"}), "none", "kids")
    case("no_kid_tries_each_key_of_its_alg", enc(base, rs2_pem, "RS256"), "none", "rotation")
    case("aud_string", enc(dict(base, aud="push.example.com")), "none", "hs", "audience")
    case("aud_list", enc(dict(base, aud=["x", "push.example.com"])), "none", "hs", "audience")
    case("aud_second_accepted", enc(dict(base, aud="push2.example.com")), "none", "hs",
         "audience")
    case("aud_ignored_when_not_configured", enc(dict(base, aud="whatever")), "none", "hs")
    case("iss_matches", enc(dict(base, iss="https://auth.example.com")), "none", "hs", "issuer")
    case("typ_other_than_jwt", enc(base, headers={"typ": "at+jwt"}), "none", "hs")

    # Time.
    case("expired", enc(dict(base, exp=NOW - 60)), "expired", "hs")
    case("expired_at_leeway_edge", enc(dict(base, exp=NOW - 5)), "expired", "hs")
    case("expired_rs256", enc(dict(base, exp=NOW - 60), rs_pem, "RS256"), "expired", "rs")
    case("not_yet_valid", enc(dict(base, nbf=NOW + 60)), "not_yet_valid", "hs")
    case("missing_exp", enc({"sub": "user-1", "iat": NOW}), "missing_exp", "hs")

    # Audience and issuer.
    case("wrong_audience", enc(dict(base, aud="someone-else")), "wrong_audience", "hs",
         "audience")
    case("wrong_audience_list", enc(dict(base, aud=["a", "b"])), "wrong_audience", "hs",
         "audience")
    case("missing_audience", enc(base), "wrong_audience", "hs", "audience")
    case("wrong_issuer", enc(dict(base, iss="https://evil.example.com")), "wrong_issuer", "hs",
         "issuer")
    case("missing_issuer", enc(base), "wrong_issuer", "hs", "issuer")

    # Subject and claim types.
    case("missing_sub", enc({"exp": NOW + 3600}), "missing_sub", "hs")
    case("empty_sub", enc(dict(base, sub="")), "missing_sub", "hs")
    case("sub_number", enc(dict(base, sub=42)), "bad_claim_type", "hs")
    case("exp_string", enc(dict(base, exp="tomorrow")), "bad_claim_type", "hs")
    case("nbf_bool", enc(dict(base, nbf=True)), "bad_claim_type", "hs")
    case("aud_number", enc(dict(base, aud=5)), "bad_claim_type", "hs")
    case("aud_list_with_number", enc(dict(base, aud=["a", 5])), "bad_claim_type", "hs")
    case("iss_number", enc(dict(base, iss=7)), "bad_claim_type", "hs")
    case("device_number", enc(dict(base, device=5)), "bad_claim_type", "hs")
    case("device_empty", enc(dict(base, device="")), "bad_claim_type", "hs")
    case("device_null", enc(dict(base, device=None)), "bad_claim_type", "hs")
    case("channels_string", enc(dict(base, channels="news")), "bad_claim_type", "hs")
    case("channels_with_number", enc(dict(base, channels=["news", 1])), "bad_claim_type", "hs")
    case("channels_with_empty_name", enc(dict(base, channels=[""])), "bad_claim_type", "hs")
    case("info_string", enc(dict(base, info="Ann")), "bad_claim_type", "hs")
    case("info_array", enc(dict(base, info=[1])), "bad_claim_type", "hs")
    case("sub_too_long", enc(dict(base, sub="u" * 257)), "claim_too_long", "hs")
    case("sub_at_limit", enc(dict(base, sub="u" * 256)), "none", "hs")
    case("device_too_long", enc(dict(base, device="d" * 257)), "claim_too_long", "hs")
    case("channel_name_too_long", enc(dict(base, channels=["c" * 257])), "claim_too_long", "hs")
    case("too_many_channels", enc(dict(base, channels=["c%d" % i for i in range(257)])),
         "too_many_channels", "hs")
    case("info_too_large", enc(dict(base, info={"bio": "x" * 2100})), "info_too_large", "hs")
    nested = {}
    for _ in range(40):
        nested = {"n": nested}
    case("info_nested_too_deep", enc(dict(base, info=nested)), "bad_json", "hs")

    # Algorithms and keys.
    case("alg_none", b64url(header_none) + "." + b64url(claims_text) + ".", "alg_none", "all")
    case("alg_none_pyjwt", jwt.encode(base, None, algorithm="none"), "alg_none", "all")
    case("alg_none_capitalised",
         b64url(json.dumps({"alg": "None"})) + "." + b64url(claims_text) + ".", "alg_none", "all")
    case("alg_none_with_signature",
         hand_built(json.dumps({"alg": "none"}), claims_text, HS_SECRET), "alg_none", "hs")
    # Algorithm confusion: the RSA public key's PEM used as an HMAC secret.
    confusion = hand_built(header_hs, claims_text, keys["rs_public_pem"])
    case("rs_public_key_as_hmac_secret", confusion, "alg_not_allowed", "rs")
    case("rs_public_key_as_hmac_secret_with_hs_key", confusion, "bad_signature", "all")
    case("rs_public_key_as_hmac_secret_kid",
         hand_built(json.dumps({"alg": "HS256", "kid": "rs-1"}), claims_text,
                    keys["rs_public_pem"]), "alg_key_mismatch", "kids")
    case("es_public_key_as_hmac_secret", hand_built(header_hs, claims_text, keys["es_public_pem"]),
         "alg_not_allowed", "es")
    case("hs384", enc(base, HS_SECRET, "HS384"), "alg_not_allowed", "hs")
    case("rs512", enc(base, rs_pem, "RS512"), "alg_not_allowed", "rs")
    case("ps256", enc(base, rs_pem, "PS256"), "alg_not_allowed", "rs")
    case("es256_token_hs_keys", enc(base, es_pem, "ES256"), "alg_not_allowed", "hs")
    case("hs256_token_rs_keys", enc(base), "alg_not_allowed", "rs")
    case("alg_lower_case", hand_built(json.dumps({"alg": "hs256"}), claims_text, HS_SECRET),
         "alg_not_allowed", "hs")
    case("unknown_kid", enc(base, headers={"kid": "nope"}), "unknown_kid", "kids")
    case("kid_when_keys_have_none", enc(base, headers={"kid": "hs-1"}), "unknown_kid", "hs")
    case("kid_names_key_of_other_alg", enc(base, es_pem, "ES256", {"kid": "rs-1"}),
         "alg_key_mismatch", "kids")
    case("kid_names_other_rs_key", enc(base, rs_pem, "RS256", {"kid": "rs-2"}), "bad_signature",
         "kids")

    # Signatures.
    case("hs256_flipped_byte", flip_signature_byte(hs_valid), "bad_signature", "hs")
    case("rs256_flipped_byte", flip_signature_byte(rs_valid), "bad_signature", "rs")
    case("es256_flipped_byte", flip_signature_byte(es_valid), "bad_signature", "es")
    case("hs256_other_secret", enc(base, OTHER_SECRET), "bad_signature", "hs")
    case("rs256_other_key", enc(base, rs2_pem, "RS256"), "bad_signature", "rs")
    case("es256_other_key", enc(base, es2_pem, "ES256"), "bad_signature", "es")
    case("claims_swapped_after_signing", swap_claims(hs_valid, dict(base, sub="admin")),
         "bad_signature", "hs")
    case("es256_der_signature", es256_der(es_valid), "bad_signature_length", "es")
    case("hs256_truncated_signature",
         hs_valid.rsplit(".", 1)[0] + "." + b64url(b64url_decode(hs_valid.split(".")[2])[:16]),
         "bad_signature_length", "hs")
    case("empty_signature", hs_valid.rsplit(".", 1)[0] + ".", "bad_signature_length", "hs")
    case("rs256_signature_too_long",
         rs_valid + "AAAA", "bad_signature_length", "rs")

    # Shape, encoding and JSON.
    case("empty", "", "malformed", "hs")
    case("garbage", "not a token", "malformed", "hs")
    case("two_parts", hs_valid.rsplit(".", 1)[0], "malformed", "hs")
    case("five_parts_jwe", "a.b.c.d.e", "malformed", "hs")
    case("dots_only", "..", "malformed", "hs")
    case("empty_claims", hs_valid.split(".")[0] + "..abc", "malformed", "hs")
    case("padding_on_signature", hs_valid + "=", "bad_base64", "hs")
    head, claims_part, sig = hs_valid.split(".")
    case("padded_header", b64url(header_hs) + "=." + claims_part + "." + sig, "bad_base64", "hs")
    case("standard_alphabet_plus",
         head + "." + claims_part[:-1] + "+" + "." + sig, "bad_base64", "hs")
    case("space_inside", head + "." + claims_part[:5] + " " + claims_part[5:] + "." + sig,
         "bad_base64", "hs")
    case("length_one_mod_four", head + "." + claims_part + "A" * ((1 - len(claims_part)) % 4) +
         "." + sig, "bad_base64", "hs")
    case("non_canonical_trailing_bits", non_canonical_tail(hs_valid), "bad_base64", "hs")
    case("header_not_json", b64url("not json") + "." + claims_part + "." + sig, "bad_json", "hs")
    case("header_array", b64url("[1]") + "." + claims_part + "." + sig, "bad_json", "hs")
    case("claims_not_json", raw_claims("not json"), "bad_json", "hs")
    case("claims_array", raw_claims("[1,2]"), "bad_json", "hs")
    case("claims_trailing_garbage", raw_claims(claims_text + "x"), "bad_json", "hs")
    case("claims_duplicate_sub",
         raw_claims('{"sub":"user-1","sub":"admin","exp":%d}' % (NOW + 3600)),
         "duplicate_member", "hs")
    case("header_duplicate_alg",
         hand_built('{"alg":"HS256","alg":"none"}', claims_text, HS_SECRET), "duplicate_member",
         "hs")
    case("header_without_alg", hand_built('{"typ":"JWT"}', claims_text, HS_SECRET),
         "bad_header", "hs")
    case("header_alg_number", hand_built('{"alg":256}', claims_text, HS_SECRET), "bad_header",
         "hs")
    case("header_kid_number", hand_built('{"alg":"HS256","kid":1}', claims_text, HS_SECRET),
         "bad_header", "hs")
    case("header_crit", enc(base, headers={"crit": ["exp"], "exp": 1}), "bad_header", "hs")

    # Sizes.
    big = enc(dict(base, pad="p" * 8200))
    case("too_large", big, "too_large", "hs")
    case("too_large_small_limit", enc(dict(base, pad="p" * 400)), "too_large", "hs", "small")
    case("claims_too_large", enc(dict(base, pad="p" * 300)), "claims_too_large", "hs",
         "small_claims")
    case("header_too_large", enc(base, headers={"x5u": "h" * 1100}), "header_too_large", "hs")
    return cases


def mint(directory):
    os.makedirs(directory, exist_ok=True)
    keys = make_keys(directory)
    cases = build_cases(keys)
    # Written last and renamed into place, so a reader never sees a half-written file.
    path = os.path.join(directory, "tokens.json")
    with open(path + ".tmp", "w") as f:
        json.dump({"now": NOW, "cases": cases}, f, ensure_ascii=False, indent=1)
    os.replace(path + ".tmp", path)


def check(directory, listing):
    """Verifies wshub's tokens with PyJWT; prints {name: {"ok": bool, "claims"|"error": ...}}."""
    def read(name):
        with open(os.path.join(directory, name), "rb") as f:
            return f.read()
    keys = {"HS256": read("hs256.secret").decode().rstrip("\n"),
            "RS256": read("rs256_public.pem"), "ES256": read("es256_public.pem"),
            "RS256-other": read("rs256_other_public.pem")}
    with open(listing) as f:
        tokens = json.load(f)
    results = {}
    for entry in tokens:
        key = keys[entry["key"]]
        try:
            claims = jwt.decode(entry["token"], key, algorithms=[entry["alg"]],
                                audience=entry.get("audience"), issuer=entry.get("issuer"),
                                options={"require": ["exp", "iat", "sub"]})
            header = jwt.get_unverified_header(entry["token"])
            results[entry["name"]] = {"ok": True, "claims": claims, "header": header}
        except jwt.PyJWTError as e:
            results[entry["name"]] = {"ok": False, "error": type(e).__name__}
    json.dump(results, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "mint":
        mint(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
