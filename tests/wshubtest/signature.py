# What a webhook backend does with X-Wshub-Signature (docs/webhooks.md): "t=UNIX,v1=HEX", the
# HMAC-SHA256 of t + "." + body under the shared secret, t within a tolerance of now, any of
# several v1 values accepted (a secret being rotated). Standard library only: the backends that
# run as scripts of their own (hub_backend.py, webhook_backend.py) import it as a sibling.

import hashlib
import hmac
import time


def check_signature(header, body, secret, tolerance_s=300):
    """"valid", or why `header` does not sign `body` with `secret` (str or bytes): "missing",
    "malformed", "outside_tolerance" or "mismatch"."""
    if not header:
        return "missing"
    t, given = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            t = value
        elif key == "v1":
            given.append(value)
    if t is None or not t.isdigit() or not given:
        return "malformed"
    if abs(time.time() - int(t)) > tolerance_s:
        return "outside_tolerance"
    key = secret.encode() if isinstance(secret, str) else secret
    expected = hmac.new(key, t.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, g) for g in given):
        return "mismatch"
    return "valid"
