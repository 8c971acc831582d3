#!/usr/bin/python3
# Every endpoint of the backend HTTP API with its success answer and each of its errors, as a
# backend sees them over keep-alive HTTP (http.client): the key (401, both header forms),
# unknown paths (404), wrong methods (405), bad bodies and channel names (400), unknown
# namespaces (404), data past hub.max_data_bytes (413), the durable-store endpoints (501).

import json

from wshubtest.api_support import API_KEY, ServerPerClass, make_config, main

BAD_NAMES = ["", "has space", "x" * 256, "ns:", ":x", "$foo:x", "a#", "a#u1,,u2", "é"]


class ApiCase(ServerPerClass):
    config = make_config(api={"max_body_bytes": 65536}, hub={"max_data_bytes": 1024})

    def setUp(self):
        self.client = self.api()

    def assert_error(self, answer, status, code, words=None):
        self.assertEqual(answer.status, status, answer)
        self.assertEqual(answer.headers.get("content-type"), "application/json", answer)
        self.assertEqual(answer.error_code, code, answer)
        message = answer.json["error"]["message"]
        self.assertTrue(message, answer)
        if words:
            self.assertIn(words, message)


class Authentication(ApiCase):

    def test_both_header_forms_are_accepted(self):
        for form in ("bearer", "x-api-key"):
            answer = self.client.get("/api/info", key_header=form)
            self.assertEqual(answer.status, 200, (form, answer))

    def test_bearer_is_case_insensitive(self):
        answer = self.client.get("/api/info", key=None, headers={"Authorization": f"bearer {API_KEY}"})
        self.assertEqual(answer.status, 200, answer)

    def test_no_key_wrong_key_and_other_schemes_get_401(self):
        cases = [
            {"key": None},
            {"key": "wrong"},
            {"key": "wrong", "key_header": "x-api-key"},
            {"key": API_KEY + "x"},
            {"key": API_KEY[:-1], "key_header": "x-api-key"},
            {"key": "", "key_header": "x-api-key"},
            {"key": None, "headers": {"Authorization": f"Basic {API_KEY}"}},
            {"key": None, "headers": {"Authorization": API_KEY}},
            {"key": None, "headers": {"Authorization": "Bearer "}},
        ]
        for case in cases:
            for method, path in (("POST", "/api/publish"), ("GET", "/api/channels"),
                                 ("POST", "/api/send"), ("GET", "/api/history")):
                body = {"channel": "news", "data": 1} if method == "POST" else None
                answer = self.client.request(method, path, body=body, **case)
                with self.subTest(case=case, path=path):
                    self.assert_error(answer, 401, 101, "API key")

    def test_a_bad_key_publishes_nothing(self):
        self.client.post("/api/publish", {"channel": "unauthorised", "data": 1}, key="wrong")
        answer = self.client.post("/api/publish", {"channel": "unauthorised", "data": 2})
        self.assertEqual(answer.json["offset"], 1, "the refused publish took an offset")

    def test_metrics_ready_and_health_need_no_key(self):
        for path in ("/metrics", "/ready", "/health"):
            self.assertEqual(self.client.get(path, key=None).status, 200, path)
            self.assertEqual(self.client.get(path, key="wrong").status, 200, path)


class ClosedMetrics(ServerPerClass):
    config = make_config(api={"open_metrics": False})

    def test_with_open_metrics_off_they_need_the_key(self):
        client = self.api()
        for path in ("/metrics", "/ready", "/health"):
            answer = client.get(path, key=None)
            self.assertEqual(answer.status, 401, (path, answer))
            self.assertEqual(answer.error_code, 101)
            self.assertEqual(client.get(path, key="wrong").status, 401, path)
            self.assertEqual(client.get(path).status, 200, path)
            self.assertEqual(client.get(path, key_header="x-api-key").status, 200, path)


class Routing(ApiCase):

    def test_unknown_paths_get_404_naming_the_path(self):
        for path in ("/", "/api", "/api/", "/api/nope", "/api/publish/", "/API/publish",
                     "/api/publishx", "/metrics/x", "/api/messages"):
            answer = self.client.get(path, key=API_KEY)
            with self.subTest(path=path):
                self.assert_error(answer, 404, 104, "no API endpoint at")

    def test_without_the_key_nothing_tells_which_paths_or_methods_exist(self):
        for method, path in (("GET", "/api/nope"), ("GET", "/"), ("GET", "/api/publish"),
                             ("POST", "/api/publish"), ("DELETE", "/api/messages/1")):
            answer = self.client.request(method, path, body=b"{}", key=None)
            with self.subTest(method=method, path=path):
                self.assert_error(answer, 401, 101, "missing or wrong API key")

    def test_a_long_unknown_path_is_cut_in_the_message(self):
        answer = self.client.get("/" + "p" * 2000)
        self.assert_error(answer, 404, 104)
        self.assertLess(len(answer.json["error"]["message"]), 300)

    def test_wrong_methods_get_405(self):
        cases = [("GET", "/api/publish"), ("PUT", "/api/publish"), ("GET", "/api/broadcast"),
                 ("GET", "/api/send"), ("DELETE", "/api/subscribe"), ("GET", "/api/unsubscribe"),
                 ("GET", "/api/disconnect"), ("POST", "/api/presence"), ("PUT", "/api/history"),
                 ("POST", "/api/channels"), ("PATCH", "/api/info"), ("POST", "/metrics"),
                 ("POST", "/ready"), ("DELETE", "/health"), ("HEAD", "/api/publish"),
                 ("POST", "/api/messages/1"), ("DELETE", "/api/messages/abc")]
        for method, path in cases:
            answer = self.client.request(method, path, body=b"{}" if method != "HEAD" else None)
            with self.subTest(method=method, path=path):
                self.assertEqual(answer.status, 405, answer)
                if method != "HEAD":
                    self.assert_error(answer, 405, 107, method)

    def test_the_query_is_not_part_of_the_path(self):
        answer = self.client.post("/api/publish?ignored=1", {"channel": "query", "data": 1})
        self.assertEqual(answer.status, 200, answer)

    def test_history_of_a_namespace_without_history_is_400_with_108(self):
        for answer in (self.client.get("/api/history?channel=news"),
                       self.client.post("/api/history", {"channel": "news"})):
            self.assert_error(answer, 400, 108, "history_size")



class MemoryStore(ApiCase):
    """With [store] kind = "memory" there is no device inbox."""

    config = make_config(api={"max_body_bytes": 65536}, hub={"max_data_bytes": 1024}) + '\n[store]\nkind = "memory"\n'

    def test_the_inbox_endpoints_answer_501_with_108(self):
        for method, path in (("POST", "/api/send"), ("GET", "/api/messages/1"), ("GET", "/api/messages/abc")):
            answer = self.client.request(method, path, body={"user": "u", "data": 1}
                                         if method == "POST" else None)
            with self.subTest(path=path):
                self.assert_error(answer, 501, 108, "SQLite store")


class BodyErrors(ApiCase):
    """What every POST endpoint says about a body it cannot read."""

    ENDPOINTS = ("/api/publish", "/api/broadcast", "/api/subscribe", "/api/unsubscribe",
                 "/api/disconnect")

    def test_bodies_that_are_not_a_json_object_get_400(self):
        for body in (b"", b"{", b"not json", b"[1,2]", b'"text"', b"42", b"null", b"{}}",
                     b'{"a":1,}', b"\xff\xfe", b"[" * 100 + b"]" * 100):
            for path in self.ENDPOINTS:
                answer = self.client.post(path, body)
                with self.subTest(body=body[:20], path=path):
                    self.assert_error(answer, 400, 107)

    def test_a_body_nested_past_the_depth_limit_is_refused(self):
        deep = '{"channel":"news","data":' + "[" * 70 + "]" * 70 + "}"
        self.assert_error(self.client.post("/api/publish", deep), 400, 107, "not JSON")


class Publish(ApiCase):

    def test_publish_answers_epoch_and_growing_offsets(self):
        first = self.client.post("/api/publish", {"channel": "pub-offsets", "data": {"n": 1}})
        second = self.client.post("/api/publish", {"channel": "pub-offsets", "data": [1, "two"]})
        self.assertEqual(first.status, 200, first)
        self.assertEqual(first.headers["content-type"], "application/json")
        self.assertEqual(set(first.json), {"epoch", "offset"})
        self.assertRegex(first.json["epoch"], r"^[0-9a-f]{8}$")
        self.assertEqual(first.json["offset"], 1)
        self.assertEqual(second.json, {"epoch": first.json["epoch"], "offset": 2})

    def test_any_json_value_is_data(self):
        for data in (None, 0, -1.5e10, "text", True, [], {}, {"nested": {"deep": [1, {}]}}):
            answer = self.client.post("/api/publish", {"channel": "pub-values", "data": data})
            self.assertEqual(answer.status, 200, (data, answer))

    def test_personal_channels_take_publications(self):
        for channel in ("$user:alice", "$device:d-1"):
            self.assertEqual(self.client.post("/api/publish", {"channel": channel, "data": 1}).status,
                             200, channel)

    def test_missing_and_mistyped_fields_get_400(self):
        cases = [({"data": 1}, "channel is required"), ({"channel": 5, "data": 1}, "channel is required"),
                 ({"channel": None, "data": 1}, "channel is required"),
                 ({"channel": ["news"], "data": 1}, "channel is required"),
                 ({"channel": "news"}, "data is required")]
        for body, words in cases:
            with self.subTest(body=body):
                self.assert_error(self.client.post("/api/publish", body), 400, 107, words)

    def test_bad_channel_names_get_400(self):
        for name in BAD_NAMES:
            with self.subTest(name=name):
                answer = self.client.post("/api/publish", {"channel": name, "data": 1})
                self.assert_error(answer, 400, 107, f"'{name[:255]}'")

    def test_an_unknown_namespace_gets_404_with_102(self):
        answer = self.client.post("/api/publish", {"channel": "nowhere:x", "data": 1})
        self.assert_error(answer, 404, 102, "nowhere")

    def test_data_past_max_data_bytes_gets_413_with_114(self):
        fits = {"channel": "pub-size", "data": "x" * 1000}
        self.assertEqual(self.client.post("/api/publish", fits).status, 200)
        answer = self.client.post("/api/publish", {"channel": "pub-size", "data": "x" * 1100})
        self.assert_error(answer, 413, 114, "max_data_bytes")


class Broadcast(ApiCase):

    def test_broadcast_answers_one_result_per_channel_in_order(self):
        self.client.post("/api/publish", {"channel": "bc-b", "data": 0})
        answer = self.client.post("/api/broadcast", {"channels": ["bc-a", "bc-b", "quiet:bc"],
                                                     "data": {"x": 1}})
        self.assertEqual(answer.status, 200, answer)
        results = answer.json["results"]
        self.assertEqual([r["channel"] for r in results], ["bc-a", "bc-b", "quiet:bc"])
        self.assertEqual([r["offset"] for r in results], [1, 2, 1])
        for r in results:
            self.assertRegex(r["epoch"], r"^[0-9a-f]{8}$")

    def test_a_thousand_channels_pass_and_more_get_106(self):
        channels = [f"bc-many-{i}" for i in range(1000)]
        answer = self.client.post("/api/broadcast", {"channels": channels, "data": 1})
        self.assertEqual(answer.status, 200, answer)
        self.assertEqual(len(answer.json["results"]), 1000)
        answer = self.client.post("/api/broadcast", {"channels": channels + ["one-more"], "data": 1})
        self.assert_error(answer, 400, 106, "1000")

    def test_missing_and_mistyped_fields_get_400(self):
        cases = [({"data": 1}, "channels is required"), ({"channels": [], "data": 1}, "channels is required"),
                 ({"channels": "news", "data": 1}, "channels is required"),
                 ({"channels": ["news", 5], "data": 1}, "channels is required"),
                 ({"channels": ["news"]}, "data is required")]
        for body, words in cases:
            with self.subTest(body=body):
                self.assert_error(self.client.post("/api/broadcast", body), 400, 107, words)

    def test_one_bad_channel_refuses_the_whole_broadcast(self):
        for name in BAD_NAMES:
            answer = self.client.post("/api/broadcast", {"channels": ["bc-none", name], "data": 1})
            with self.subTest(name=name):
                self.assert_error(answer, 400, 107, f"'{name[:255]}'")
        self.assert_error(self.client.post("/api/broadcast", {"channels": ["bc-none", "nowhere:x"],
                                                              "data": 1}), 404, 102, "nowhere")
        answer = self.client.post("/api/publish", {"channel": "bc-none", "data": 2})
        self.assertEqual(answer.json["offset"], 1, "a refused broadcast published to bc-none")

    def test_data_past_max_data_bytes_gets_413(self):
        answer = self.client.post("/api/broadcast", {"channels": ["a"], "data": "x" * 1100})
        self.assert_error(answer, 413, 114)


class Subscriptions(ApiCase):

    def test_subscribe_and_unsubscribe_of_nobody_count_zero(self):
        answer = self.client.post("/api/subscribe", {"user": "nobody", "channel": "news"})
        self.assertEqual((answer.status, answer.json), (200, {"subscribed": 0}))
        answer = self.client.post("/api/unsubscribe", {"user": "nobody", "channel": "news"})
        self.assertEqual((answer.status, answer.json), (200, {"unsubscribed": 0}))

    def test_missing_and_mistyped_fields_get_400(self):
        for path in ("/api/subscribe", "/api/unsubscribe"):
            cases = [({"channel": "news"}, "user is required"),
                     ({"user": "", "channel": "news"}, "user is required"),
                     ({"user": 7, "channel": "news"}, "user is required"),
                     ({"user": "u"}, "channel is required"),
                     ({"user": "u", "channel": {}}, "channel is required")]
            for body, words in cases:
                with self.subTest(path=path, body=body):
                    self.assert_error(self.client.post(path, body), 400, 107, words)
            for name in BAD_NAMES:
                with self.subTest(path=path, name=name):
                    self.assert_error(self.client.post(path, {"user": "u", "channel": name}), 400, 107)
            self.assert_error(self.client.post(path, {"user": "u", "channel": "nowhere:x"}), 404, 102)


class Disconnect(ApiCase):

    def test_disconnect_of_nobody_counts_zero(self):
        for body in ({"user": "nobody"}, {"device": "none"}, {"user": "u", "code": 3000},
                     {"user": "u", "code": 4999, "reason": "r" * 100}, {"device": "d", "reason": ""}):
            answer = self.client.post("/api/disconnect", body)
            with self.subTest(body=body):
                self.assertEqual((answer.status, answer.json), (200, {"disconnected": 0}))

    def test_exactly_one_of_user_or_device(self):
        for body in ({}, {"user": "u", "device": "d"}, {"user": ""}, {"device": ""}, {"user": 5},
                     {"user": "", "device": ""}):
            with self.subTest(body=body):
                self.assert_error(self.client.post("/api/disconnect", body), 400, 107, "exactly one")

    def test_the_code_must_be_from_3000_to_4999(self):
        for code in (0, 1000, 1001, 2999, 5000, 65536, -1, "3000", 3000.5, None):
            with self.subTest(code=code):
                self.assert_error(self.client.post("/api/disconnect", {"user": "u", "code": code}),
                                  400, 107, "3000 to 4999")

    def test_the_reason_must_be_a_short_string(self):
        for reason in ("r" * 101, 5, None, ["x"]):
            with self.subTest(reason=reason):
                self.assert_error(self.client.post("/api/disconnect", {"user": "u", "reason": reason}),
                                  400, 107, "reason")


class Queries(ApiCase):

    def test_presence_of_an_empty_channel(self):
        answer = self.client.get("/api/presence?channel=nobody-here")
        self.assertEqual((answer.status, answer.json), (200, {"clients": {}, "total": 0}))

    def test_presence_reads_a_percent_encoded_channel(self):
        self.assertEqual(self.client.get("/api/presence?x=1&channel=%6eews").status, 200)
        self.assertEqual(self.client.get("/api/presence?channel=quiet%3Ax").error_code, 108)

    def test_presence_errors(self):
        self.assert_error(self.client.get("/api/presence"), 400, 107, "channel=")
        self.assert_error(self.client.get("/api/presence?chan=news"), 400, 107, "channel=")
        self.assert_error(self.client.get("/api/presence?channel="), 400, 107, "channel name")
        self.assert_error(self.client.get("/api/presence?channel=a%20b"), 400, 107, "channel name")
        self.assert_error(self.client.get("/api/presence?channel=nowhere:x"), 404, 102)
        # Presence is a namespace setting: off here, so not available (108), answered 400.
        self.assert_error(self.client.get("/api/presence?channel=quiet:x"), 400, 108, "presence is off")

    def test_channels_lists_only_channels_with_subscribers(self):
        # Channels with subscribers and their offsets: tests/apiinteg/test_api_effects.py.
        self.client.post("/api/publish", {"channel": "unheard", "data": 1})
        answer = self.client.get("/api/channels")
        self.assertEqual(answer.status, 200)
        self.assertEqual(set(answer.json), {"channels"})
        self.assertNotIn("unheard", [c["channel"] for c in answer.json["channels"]])

    def test_info_reports_the_hub(self):
        answer = self.client.get("/api/info")
        self.assertEqual(answer.status, 200)
        hub = answer.json["hub"]
        for field in ("sessions", "connected", "subscriptions"):
            self.assertIsInstance(hub[field], int, hub)

    def test_health_ready_and_metrics_on_the_api_listener(self):
        health = self.client.get("/health", key=None)
        self.assertEqual(health.status, 200)
        self.assertEqual(health.json["status"], "ok")
        self.assertIn("hub", health.json)
        ready = self.client.get("/ready", key=None)
        self.assertEqual((ready.status, ready.json), (200, {"ready": True}))
        metrics = self.client.get("/metrics", key=None)
        self.assertEqual(metrics.status, 200)
        self.assertTrue(metrics.headers["content-type"].startswith("text/plain; version=0.0.4"))
        self.assertIn(b"# TYPE wshub_api_requests_total counter", metrics.body)

    def test_every_error_body_is_one_json_object_and_a_newline(self):
        answer = self.client.post("/api/publish", b"{")
        self.assertTrue(answer.body.endswith(b"}\n"), answer)
        self.assertEqual(set(json.loads(answer.body)), {"error"})


if __name__ == "__main__":
    main()
