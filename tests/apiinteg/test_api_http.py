#!/usr/bin/python3
# HTTP/1.1 on the API listener, over raw sockets and http.client: keep-alive (connections
# counted by the server's own wshub_connections_accepted_total), chunked bodies, pipelining
# answered in order, Expect: 100-continue, HTTP/1.0, Connection: close, bodies that lie about
# their length, request-smuggling shapes, HEAD, and the body limit (413) before the body is
# sent.

import json
import socket
import time

from wshubtest.api_support import (ApiClient, Metrics, ServerPerClass, chunked, closed_by_peer,
                                   make_config, main, one_write_request, raw_connect, read_response,
                                   read_responses, request_bytes)

MAX_BODY = 1024
REQUEST_TIMEOUT_MS = 1500


def publish_body(channel, data=1):
    return json.dumps({"channel": channel, "data": data}).encode()


class HttpCase(ServerPerClass):
    # The default request timeout (10 s): http.client writes a head and its body apart.
    config = make_config(api={"max_body_bytes": MAX_BODY})
    threads = 2

    def connect(self):
        sock = raw_connect(self.server.api_port)
        self.addCleanup(sock.close)
        return sock

    def offset_after(self, channel):
        """Publishes once more to `channel` and returns the offset it got (1 for a channel
        nobody published to before)."""
        status, answer = one_write_request(self.server.api_port, "POST", "/api/publish",
                                           publish_body(channel))
        self.assertEqual(status, 200, answer)
        return answer["offset"]

    def assert_refused_and_closed(self, request, status, words):
        sock = self.connect()
        sock.sendall(request)
        response, rest = read_response(sock)
        self.assertEqual(response.status, status, response.raw)
        self.assertEqual(response.header("connection"), "close")
        self.assertIn(words, response.text)
        self.assertEqual(rest, b"")
        self.assertIs(closed_by_peer(sock), True)


class KeepAlive(HttpCase):

    def test_many_requests_of_every_outcome_share_one_connection(self):
        client = self.api()
        before = Metrics(client.get("/metrics").body.decode())
        statuses = set()
        for i in range(50):
            for method, path, body in (("POST", "/api/publish", publish_body("ka")),
                                       ("GET", "/api/info", None), ("GET", "/nope", None),
                                       ("POST", "/api/publish", b"{"), ("GET", "/api/publish", None),
                                       ("GET", "/ready", None)):
                answer = client.request(method, path, body=body)
                statuses.add(answer.status)
                self.assertNotEqual(answer.headers.get("connection"), "close", (path, answer))
            self.assertEqual(client.get("/api/info", key="wrong").status, 401)
        after = Metrics(client.get("/metrics").body.decode())
        self.assertEqual(statuses, {200, 400, 404, 405})
        self.assertEqual(after.value("wshub_connections_accepted_total"),
                         before.value("wshub_connections_accepted_total"),
                         "the 351 requests opened connections of their own")
        self.assertEqual(after.value("wshub_api_requests_total", endpoint="publish", status="2xx")
                         - before.value("wshub_api_requests_total", endpoint="publish", status="2xx"), 50)

    def test_connection_close_is_honoured(self):
        sock = self.connect()
        sock.sendall(request_bytes("GET", "/ready", headers=["Connection: close"]))
        response, rest = read_response(sock)
        self.assertEqual(response.status, 200)
        self.assertEqual(response.header("connection"), "close")
        self.assertIs(closed_by_peer(sock), True)

    def test_a_request_after_connection_close_is_not_read(self):
        for n, (version, headers) in enumerate((("HTTP/1.1", ["Connection: close"]),
                                                ("HTTP/1.0", []), ("HTTP/1.1", ["Connection: x, CLOSE"]))):
            channel = f"after-close-{n}"
            sock = self.connect()
            sock.sendall(request_bytes("POST", "/api/publish", publish_body(channel), headers=headers,
                                       version=version)
                         + request_bytes("POST", "/api/publish", publish_body(channel)))
            response, rest = read_response(sock)
            self.assertEqual(response.status, 200)
            self.assertEqual(response.header("connection"), "close")
            self.assertEqual(rest, b"")
            self.assertIs(closed_by_peer(sock), True)
            self.assertEqual(self.offset_after(channel), 2, f"the request after {version} {headers} ran")


class Http10(HttpCase):

    def test_http10_closes_after_the_answer(self):
        sock = self.connect()
        sock.sendall(b"GET /ready HTTP/1.0\r\n\r\n")
        response, _ = read_response(sock)
        self.assertEqual(response.status, 200)
        self.assertTrue(response.status_line.startswith("HTTP/1.1 "), response.status_line)
        self.assertEqual(response.header("connection"), "close")
        self.assertIs(closed_by_peer(sock), True)

    def test_http10_keep_alive_is_kept_and_said(self):
        sock = self.connect()
        body = publish_body("http10")
        head = ("POST /api/publish HTTP/1.0\r\nConnection: keep-alive\r\nX-API-Key: api-integ-key\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        sock.sendall(head + body + b"GET /ready HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        (first, second), _ = read_responses(sock, 2)
        self.assertEqual((first.status, json.loads(first.body)["offset"]), (200, 1))
        self.assertEqual(first.header("connection"), "keep-alive")
        self.assertEqual(second.status, 200)
        sock.sendall(b"GET /ready HTTP/1.0\r\n\r\n")
        third, _ = read_response(sock)
        self.assertEqual(third.header("connection"), "close")
        self.assertIs(closed_by_peer(sock), True)

    def test_transfer_encoding_in_http10_is_refused(self):
        self.assert_refused_and_closed(
            b"POST /api/publish HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(b"{}", 1),
            400, "HTTP/1.0")

    def test_expect_is_ignored_in_http10(self):
        sock = self.connect()
        body = publish_body("expect10")
        sock.sendall(b"POST /api/publish HTTP/1.0\r\nX-API-Key: api-integ-key\r\nExpect: 100-continue\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body))
        self.assertIs(closed_by_peer(sock, timeout=0.5), False, "an HTTP/1.0 client got 100 Continue")
        sock.sendall(body)
        response, _ = read_response(sock)
        self.assertEqual(response.status, 200, response.raw)


class TlsOnThePlainApiPort(HttpCase):

    def test_a_tls_client_is_told_at_once_not_after_the_request_timeout(self):
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        started = time.monotonic()
        sock = self.connect()
        with self.assertRaises((ssl.SSLError, ConnectionResetError, OSError)):
            context.wrap_socket(sock, server_hostname="api.example.com")
        self.assertLess(time.monotonic() - started, 5.0)  # the request timeout is 10 s
        line = self.server.wait_for_log(r"rejected \(tls_client_hello\)")
        self.assertIsNotNone(line)
        self.assertIn(f"to 127.0.0.1:{self.server.api_port} rejected", line)


class Chunked(HttpCase):

    def test_chunked_bodies_in_any_chunk_size(self):
        body = publish_body("chunked", {"text": "x" * 300})
        for size in (1, 7, 64, len(body)):
            sock = self.connect()
            sock.sendall(request_bytes("POST", "/api/publish", chunked(body, size),
                                       headers=["Transfer-Encoding: chunked"]))
            response, _ = read_response(sock)
            self.assertEqual(response.status, 200, (size, response.raw))
        self.assertEqual(self.offset_after("chunked"), 5)

    def test_chunk_extensions_and_trailers_are_taken(self):
        body = publish_body("chunk-ext")
        wire = (b"%x;name=value;quoted=\"a b\"\r\n" % len(body) + body + b"\r\n"
                b"0;last\r\nX-Trailer: yes\r\n\r\n")
        sock = self.connect()
        sock.sendall(request_bytes("POST", "/api/publish", wire, headers=["Transfer-Encoding: chunked"]))
        response, _ = read_response(sock)
        self.assertEqual(response.status, 200, response.raw)

    def test_a_chunked_body_written_in_pieces_over_time(self):
        wire = request_bytes("POST", "/api/publish", chunked(publish_body("chunk-slow"), 5),
                             headers=["Transfer-Encoding: chunked"])
        sock = self.connect()
        for i in range(0, len(wire), 9):
            sock.sendall(wire[i:i + 9])
            time.sleep(0.002)
        response, _ = read_response(sock)
        self.assertEqual(response.status, 200, response.raw)

    def test_a_chunked_body_past_the_limit_gets_413_and_close(self):
        sock = self.connect()
        sock.sendall(request_bytes("POST", "/api/publish", headers=["Transfer-Encoding: chunked"]))
        sent = 0
        response = None
        try:
            while sent < 64 * MAX_BODY:
                sock.sendall(b"100\r\n" + b"a" * 256 + b"\r\n")
                sent += 256
                if sent > 2 * MAX_BODY:
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        response, _ = read_response(sock)
        self.assertEqual(response.status, 413, response.raw)
        self.assertEqual(response.header("connection"), "close")
        self.assertIn("max_body_bytes", response.text)

    def test_malformed_chunk_framing_gets_400(self):
        for wire in (b"zz\r\nabc\r\n0\r\n\r\n", b"3\r\nabcdef\r\n0\r\n\r\n",
                     b"ffffffffffffffffffff\r\nx\r\n", b"3;=\r\nabc\r\n0\r\n\r\n"):
            with self.subTest(wire=wire):
                self.assert_refused_and_closed(
                    request_bytes("POST", "/api/publish", wire, headers=["Transfer-Encoding: chunked"]),
                    400, "chunk")


class Pipelining(HttpCase):

    def test_pipelined_requests_are_answered_in_order(self):
        requests = [
            ("publish", request_bytes("POST", "/api/publish", publish_body("pipe", 1)), 200),
            ("subscribe", request_bytes("POST", "/api/subscribe",
                                        json.dumps({"user": "u", "channel": "pipe"}).encode()), 200),
            ("publish", request_bytes("POST", "/api/publish", publish_body("pipe", 2)), 200),
            ("404", request_bytes("GET", "/missing"), 404),
            ("head", request_bytes("HEAD", "/ready"), 200),
            ("disconnect", request_bytes("POST", "/api/disconnect", b'{"user":"u"}'), 200),
            ("400", request_bytes("POST", "/api/publish", b"[]"), 400),
            ("401", request_bytes("GET", "/api/info", key="bad"), 401),
            ("publish", request_bytes("POST", "/api/publish", publish_body("pipe", 3)), 200),
            ("chunked", request_bytes("POST", "/api/publish", chunked(publish_body("pipe", 4), 3),
                                      headers=["Transfer-Encoding: chunked"]), 200),
            ("ready", request_bytes("GET", "/ready"), 200),
        ]
        sock = self.connect()
        sock.sendall(b"".join(wire for _, wire, _ in requests))
        responses, rest = read_responses(sock, len(requests), head_only={4})
        self.assertEqual(rest, b"")
        self.assertEqual([r.status for r in responses], [status for _, _, status in requests])
        offsets = [json.loads(r.body)["offset"] for (name, _, _), r in zip(requests, responses)
                   if name in ("publish", "chunked")]
        self.assertEqual(offsets, [1, 2, 3, 4])
        self.assertEqual(json.loads(responses[1].body), {"subscribed": 0})
        self.assertEqual(json.loads(responses[5].body), {"disconnected": 0})

    def test_a_hundred_pipelined_publishes_in_one_write(self):
        sock = self.connect()
        sock.sendall(b"".join(request_bytes("POST", "/api/publish", publish_body("pipe100", i))
                              for i in range(100)))
        responses, _ = read_responses(sock, 100)
        self.assertEqual([json.loads(r.body)["offset"] for r in responses], list(range(1, 101)))


class Expect(HttpCase):

    def test_100_continue_then_the_body(self):
        body = publish_body("expect")
        sock = self.connect()
        sock.sendall(request_bytes("POST", "/api/publish", headers=["Expect: 100-continue",
                                                                    f"Content-Length: {len(body)}"]))
        interim, rest = read_response(sock)
        self.assertEqual(interim.status, 100)
        self.assertEqual(rest, b"")
        sock.sendall(body)
        final, _ = read_response(sock)
        self.assertEqual(final.status, 200, final.raw)
        self.assertEqual(json.loads(final.body)["offset"], 1)

    def test_a_declared_length_past_the_limit_gets_413_before_the_body(self):
        sock = self.connect()
        sock.sendall(request_bytes("POST", "/api/publish", headers=["Expect: 100-continue",
                                                                    f"Content-Length: {MAX_BODY + 1}"]))
        response, _ = read_response(sock)
        self.assertEqual(response.status, 413, response.raw)
        self.assertEqual(response.header("connection"), "close")
        self.assertIs(closed_by_peer(sock), True)

    def test_other_expectations_get_417(self):
        self.assert_refused_and_closed(
            request_bytes("POST", "/api/publish", b"{}", headers=["Expect: 200-ok"]), 417, "Expect")


class Lengths(HttpCase):

    def test_a_body_at_the_limit_passes_and_one_byte_more_gets_413(self):
        base = publish_body("limit", "")
        exact = publish_body("limit", "x" * (MAX_BODY - len(base)))
        self.assertEqual(len(exact), MAX_BODY)
        client = self.api()
        self.assertEqual(client.post("/api/publish", exact).status, 200)
        answer = client.post("/api/publish", exact[:-1] + b" }")
        self.assertEqual(answer.status, 413, answer)
        self.assertEqual(answer.headers.get("connection"), "close")

    def test_a_declared_length_past_the_limit_gets_413_without_the_body(self):
        for length in (MAX_BODY + 1, 10 ** 12, 2 ** 64 - 1):
            sock = self.connect()
            sock.sendall(request_bytes("POST", "/api/publish", headers=[f"Content-Length: {length}"]))
            response, _ = read_response(sock)
            with self.subTest(length=length):
                self.assertEqual(response.status, 413, response.raw)
                self.assertIs(closed_by_peer(sock), True)

    def test_bytes_past_the_length_are_the_next_request_and_get_400(self):
        body = publish_body("long")
        sock = self.connect()
        sock.sendall(request_bytes("POST", "/api/publish", body + b"extra bytes\r\n\r\n",
                                   headers=[f"Content-Length: {len(body)}"]))
        (first, second), _ = read_responses(sock, 2)
        self.assertEqual(first.status, 200, first.raw)
        self.assertEqual(second.status, 400, second.raw)
        self.assertIn("request line", second.text)
        self.assertIs(closed_by_peer(sock), True)

    def test_a_head_and_its_body_in_separate_writes(self):
        body = publish_body("split", {"k": "v"})
        head = request_bytes("POST", "/api/publish", headers=[f"Content-Length: {len(body)}"])
        sock = self.connect()
        sock.sendall(head)
        time.sleep(0.1)
        sock.sendall(body)
        response, _ = read_response(sock)
        self.assertEqual((response.status, json.loads(response.body)["offset"]), (200, 1), response.raw)

    def test_interleaved_split_requests_on_many_connections_keep_their_own_heads(self):
        # Heads first on every connection, then each body: each request must keep its own
        # method, path and key while the others are read on the same workers.
        socks, bodies = [], []
        for i in range(8):
            body = publish_body(f"interleaved-{i}", i)
            path = "/api/publish" if i % 2 == 0 else "/api/broadcast"
            if i % 2:
                body = json.dumps({"channels": [f"interleaved-{i}"], "data": i}).encode()
            sock = self.connect()
            sock.sendall(request_bytes("POST", f"{path}?n={i}",
                                       headers=[f"Content-Length: {len(body)}", f"X-Pad-{i}: {'p' * i}"]))
            socks.append(sock)
            bodies.append(body)
        time.sleep(0.1)
        for sock, body in zip(reversed(socks), reversed(bodies)):
            sock.sendall(body)
        for i, sock in enumerate(socks):
            response, _ = read_response(sock)
            self.assertEqual(response.status, 200, (i, response.raw))
            answer = json.loads(response.body)
            if i % 2:
                self.assertEqual(answer["results"][0]["channel"], f"interleaved-{i}")
            else:
                self.assertEqual(answer["offset"], 1)

    def test_a_request_sent_byte_by_byte(self):
        wire = request_bytes("POST", "/api/publish", publish_body("bytewise"))
        sock = self.connect()
        for i in range(len(wire)):
            sock.sendall(wire[i:i + 1])
        response, _ = read_response(sock)
        self.assertEqual(response.status, 200, response.raw)


class RequestTimeout(HttpCase):
    # Requests here are single writes (one_write_request): only the short body can time out.
    config = make_config(api={"max_body_bytes": MAX_BODY},
                         limits={"handshake_timeout_ms": REQUEST_TIMEOUT_MS})

    def test_a_body_shorter_than_its_length_gets_408_after_the_request_timeout(self):
        sock = self.connect()
        started = time.monotonic()  # before the server can start its timer
        sock.sendall(request_bytes("POST", "/api/publish", publish_body("short"),
                                   headers=["Content-Length: 100"]))
        response, _ = read_response(sock)
        self.assertEqual(response.status, 408, response.raw)
        self.assertIn("handshake_timeout_ms", response.text)
        self.assertGreaterEqual(time.monotonic() - started, REQUEST_TIMEOUT_MS / 1000 * 0.9)
        self.assertIs(closed_by_peer(sock), True)
        self.assertEqual(self.offset_after("short"), 1)

    def test_a_partial_head_gets_408_too(self):
        sock = self.connect()
        sock.sendall(b"POST /api/publish HTTP/1.1\r\nHost: x\r\n")
        response, _ = read_response(sock)
        self.assertEqual(response.status, 408, response.raw)
        self.assertIs(closed_by_peer(sock), True)


class Smuggling(HttpCase):

    def test_content_length_with_transfer_encoding_is_refused_and_nothing_smuggled_runs(self):
        smuggled = request_bytes("POST", "/api/publish", publish_body("smuggled"))
        wire = request_bytes("POST", "/api/publish", b"0\r\n\r\n" + smuggled,
                             headers=["Content-Length: 5", "Transfer-Encoding: chunked"])
        self.assert_refused_and_closed(wire, 400, "request smuggling")
        wire = request_bytes("POST", "/api/publish", b"0\r\n\r\n" + smuggled,
                             headers=["Transfer-Encoding: chunked", "Content-Length: 5"])
        self.assert_refused_and_closed(wire, 400, "request smuggling")
        self.assertEqual(self.offset_after("smuggled"), 1)

    def test_differing_content_lengths_are_refused(self):
        for headers in (["Content-Length: 5", "Content-Length: 6"], ["Content-Length: 5, 6"]):
            with self.subTest(headers=headers):
                self.assert_refused_and_closed(
                    request_bytes("POST", "/api/publish", b"{}   ", headers=headers), 400, "Content-Length")

    def test_identical_content_lengths_are_one_length(self):
        # RFC 9112 §6.3 lets a recipient take a list of identical values as one.
        body = publish_body("same-length")
        sock = self.connect()
        sock.sendall(request_bytes("POST", "/api/publish", body, headers=[
            f"Content-Length: {len(body)}", f"Content-Length: {len(body)}"]))
        response, _ = read_response(sock)
        self.assertEqual(response.status, 200, response.raw)

    def test_malformed_lengths_and_codings_are_refused(self):
        cases = [
            (["Content-Length: +5"], 400), (["Content-Length: -1"], 400), (["Content-Length: 5 5"], 400),
            (["Content-Length: 0x5"], 400), (["Content-Length:"], 400),
            (["Transfer-Encoding: chunked, chunked"], 400), (["Transfer-Encoding: chunked, gzip"], 400),
            # A coding other than chunked is not implemented (RFC 9112 §6.1: 501), also when
            # chunked is missing (§6.3 would allow 400): either way the connection closes.
            (["Transfer-Encoding: gzip, chunked"], 501), (["Transfer-Encoding: gzip"], 501),
            (["Transfer-Encoding: xchunked"], 501),
            (["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"], 400),
            (["Transfer-Encoding : chunked"], 400), ([" Transfer-Encoding: chunked"], 400),
        ]
        for headers, status in cases:
            with self.subTest(headers=headers):
                sock = self.connect()
                sock.sendall(request_bytes("POST", "/api/publish", b"0\r\n\r\n", headers=headers))
                response, _ = read_response(sock)
                self.assertEqual(response.status, status, response.raw)
                self.assertIs(closed_by_peer(sock), True)

    def test_host_must_be_there_once(self):
        self.assert_refused_and_closed(b"GET /ready HTTP/1.1\r\n\r\n", 400, "Host")
        self.assert_refused_and_closed(b"GET /ready HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "Host")

    def test_a_head_past_max_head_bytes_gets_431(self):
        sock = self.connect()
        sock.sendall(request_bytes("GET", "/ready", headers=["X-Big: " + "b" * 9000]))
        response, _ = read_response(sock)
        self.assertEqual(response.status, 431, response.raw)


class Head(HttpCase):

    def test_head_answers_the_get_headers_without_a_body(self):
        sock = self.connect()
        for path, key in (("/ready", None), ("/health", None), ("/metrics", None),
                          ("/api/info", "api-integ-key"), ("/api/channels", "api-integ-key")):
            sock.sendall(request_bytes("HEAD", path, key=key) + request_bytes("GET", path, key=key))
            (head, get), rest = read_responses(sock, 2, head_only={0})
            with self.subTest(path=path):
                self.assertEqual(head.status, 200, head.raw)
                self.assertEqual(get.status, 200, get.raw)
                self.assertEqual(head.header("content-type"), get.header("content-type"))
                self.assertGreater(int(head.header("content-length")), 0)
                self.assertEqual(rest, b"")
        sock.settimeout(0.3)
        with self.assertRaises(socket.timeout):
            sock.recv(1)  # no stray body bytes after the last answer

    def test_head_of_an_error_has_no_body(self):
        client = ApiClient(self.server.api_port)
        self.addCleanup(client.close)
        answer = client.request("HEAD", "/api/info", key="wrong")
        self.assertEqual((answer.status, answer.body), (401, b""))
        self.assertEqual(client.get("/ready").status, 200)


if __name__ == "__main__":
    main()
