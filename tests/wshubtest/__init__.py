"""wshubtest: what wshub's Python tests share, as one package.

Every Python ctest runs with tests/ on PYTHONPATH (the wshub_python_test CMake function in
tests/python_tests.cmake sets it), so a test imports helpers as `from wshubtest import harness`
and never edits sys.path. The modules know wshub only through its command line, config, log
lines and the wire:

  harness         start a wshub process on 127.0.0.1:0 and stop it by PID; raw HTTP and
                  WebSocket frames over sockets; TOML configs; /metrics; free ports; the test
                  runner's main() (--wshub PATH, --io BACKEND)
  tokens          connect tokens minted with python3-jwt
  hubtest         the hub protocol's tests: configs, python3-jwt tokens, an asyncio hub client,
                  the webhook backend as a process (hub_backend.py)
  hub_backend     that webhook backend, run as its own process (a script, stdlib only)
  api_support     the backend API's tests: configs, an HTTP API client, /metrics, raw requests
  hub_client      a small asyncio hub client for watching the API's effects
  hook_backend    a webhook backend in a thread of the test process
  webhook_backend the C++ api tests' webhook backend, a script run as its own process
  signature       the X-Wshub-Signature check every webhook backend here makes
  hardening       hostile and slow clients: raw sockets, CPU time, RSS, fd counts
  proxy_harness   nginx and HAProxy on loopback with their own prefix, stopped by PID; certs
  deflate_client  a raw-socket permessage-deflate client on Python's zlib
"""
