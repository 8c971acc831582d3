# Connect tokens for the tests, minted with Debian's python3-jwt, never with wshub's own code:
# a test that signed with the server's code could not catch a bug the two share.

import time

import jwt  # python3-jwt


def claims_for(user, device=None, ttl=3600, channels=None, info=None, **extra):
    """The claims of a token for `user` that expires in `ttl` seconds; None leaves a claim out."""
    claims = {"sub": user, "exp": int(time.time()) + ttl}
    if device is not None:
        claims["device"] = device
    if channels is not None:
        claims["channels"] = channels
    if info is not None:
        claims["info"] = info
    claims.update(extra)
    return claims


def mint(claims, key, alg="HS256", headers=None):
    """`claims` signed with `key` (a secret for HS*, a PEM private key for RS*/ES*)."""
    return jwt.encode(claims, key, algorithm=alg, headers=headers)
