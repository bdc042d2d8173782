"""The client's HTTP behaviour against the real server: errors built from
its problem bodies, a request id on every call and in every error, and
retries. Faults come from a small proxy in front of the server that answers
502/503/504/500 or drops the connection before passing calls on.
"""
import json
import math
import socket
import threading
import unittest
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from training_registry import (
    BadRequest, Client, Conflict, ConnectionFailed, Forbidden, NotFound, RegistryError, ServerError, ServiceUnavailable,
    Unauthorized,
)

from .support import ALICE_TOKEN, BOB_TOKEN, URL, client, unique

ORIGIN = URL.rsplit("/functions/v1", 1)[0]


class FaultProxy:
    """Answers the first calls with the given faults (a status, or "drop" to close the socket), then proxies."""

    def __init__(self, *faults):
        self.faults = list(faults)
        self.seen = []  # (method, path, headers) of every call that reached the proxy
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def handle_one(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                proxy.seen.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
                fault = proxy.faults.pop(0) if proxy.faults else None
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault is not None:
                    problem = json.dumps({"type": "about:blank", "title": "Fault", "status": fault,
                                          "detail": f"injected {fault}", "code": "fault"}).encode()
                    self.send_response(fault)
                    self.send_header("content-type", "application/problem+json")
                    self.send_header("retry-after", "0")
                    self.send_header("content-length", str(len(problem)))
                    self.end_headers()
                    self.wfile.write(problem)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                request = urllib.request.Request(ORIGIN + self.path, data=body or None, method=self.command, headers=headers)
                try:
                    answer = urllib.request.urlopen(request, timeout=30)
                except urllib.error.HTTPError as error:
                    answer = error
                with answer:
                    data = answer.read()
                    self.send_response(answer.status)
                    for k, v in answer.headers.items():
                        if k.lower() not in ("content-length", "transfer-encoding", "connection", "date"):
                            self.send_header(k, v)
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = handle_one

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/functions/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Errors(unittest.TestCase):
    def setUp(self):
        self.alice = client(ALICE_TOKEN)

    def test_bad_request_names_each_field(self):
        with self.assertRaises(BadRequest) as caught:
            self.alice.request("POST", "/runs", json={"run_id": "stats", "config": [], "host": ""})
        error = caught.exception
        self.assertEqual(error.status, 400)
        self.assertEqual(sorted(error.paths), ["config", "host", "run_id"])
        self.assertEqual(str(error), error.problem["detail"])
        self.assertRegex(error.request_id, r"^[0-9a-f]{32}$")

    def test_each_status_its_class_with_the_detail_as_message(self):
        run_id = self.alice.runs.create(unique("err"), {})["run_id"]
        cases = [
            (Unauthorized, lambda: Client(URL, "", retries=0).runs.stats(), "missing bearer token"),  # "": no token at all
            (Unauthorized, lambda: Client(URL, "x.y.z", retries=0).runs.stats(), "malformed token"),
            (Forbidden, lambda: client(BOB_TOKEN).runs.update_status(run_id, "running"), ""),
            (NotFound, lambda: self.alice.runs.get(unique("missing")), "not found"),
            (Conflict, lambda: self.alice.runs.create(run_id, {"other": 1}), "already exists"),
        ]
        for cls, call, words in cases:
            with self.subTest(cls=cls.__name__), self.assertRaises(cls) as caught:
                call()
            self.assertIsInstance(caught.exception, RegistryError)
            self.assertEqual(caught.exception.status, cls.status)
            self.assertIn(words, str(caught.exception))
            self.assertEqual(str(caught.exception), caught.exception.detail)
            self.assertTrue(caught.exception.request_id)

    def test_non_finite_numbers_are_refused_before_sending(self):
        with self.assertRaises(ValueError):
            self.alice.runs.create(unique("nan"), {"lr": math.nan})

    def test_datetimes_are_sent_as_utc(self):
        run_id = self.alice.runs.create(unique("time"), {})["run_id"]
        aware = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
        run = self.alice.runs.update_status(run_id, "completed", started_at=aware, ended_at=datetime(2026, 1, 1, 11))
        self.assertEqual(run["duration_seconds"], 3600)

    def test_base_url_forms(self):
        self.assertEqual(Client("https://abc.supabase.co").base_url, "https://abc.supabase.co/functions/v1")
        self.assertEqual(Client(URL + "/").base_url, URL)


class Retries(unittest.TestCase):
    def with_proxy(self, *faults, retries=3):
        proxy = FaultProxy(*faults)
        self.addCleanup(proxy.close)
        return proxy, Client(proxy.url, ALICE_TOKEN, retries=retries, backoff=0.01)

    def test_a_write_retried_through_503_502_504_keeps_its_keys(self):
        proxy, c = self.with_proxy(503, 502, 504)
        run_id = unique("retry")
        self.assertEqual(c.runs.create(run_id, {"lr": 1})["run_id"], run_id)
        self.assertEqual(len(proxy.seen), 4)
        keys = {h.get("idempotency-key") for _, _, h in proxy.seen}
        ids = {h.get("x-request-id") for _, _, h in proxy.seen}
        self.assertEqual(len(keys), 1)
        self.assertEqual(len(ids), 1)
        self.assertNotIn(None, keys | ids)

    def test_reads_retry_without_an_idempotency_key_and_every_call_has_a_new_request_id(self):
        proxy, c = self.with_proxy(503)
        c.runs.stats()
        c.runs.stats()
        self.assertEqual(len(proxy.seen), 3)
        self.assertTrue(all("idempotency-key" not in h for _, _, h in proxy.seen))
        self.assertEqual(len({h["x-request-id"] for _, _, h in proxy.seen}), 2)

    def test_dropped_connections_are_retried(self):
        proxy, c = self.with_proxy("drop", "drop")
        self.assertIn("total_runs", c.runs.stats())
        self.assertEqual(len(proxy.seen), 3)

    def test_other_errors_are_answers_not_retried(self):
        proxy, c = self.with_proxy(500)
        with self.assertRaises(ServerError) as caught:
            c.runs.stats()
        self.assertNotIsInstance(caught.exception, ServiceUnavailable)
        self.assertEqual(len(proxy.seen), 1)
        with self.assertRaises(NotFound):
            c.runs.get(unique("missing"))
        self.assertEqual(len(proxy.seen), 2)

    def test_when_retries_run_out_the_last_answer_is_raised(self):
        proxy, c = self.with_proxy(503, 503, 503, retries=2)
        with self.assertRaises(ServiceUnavailable) as caught:
            c.packages.create("never")
        self.assertEqual((caught.exception.status, str(caught.exception)), (503, "injected 503"))
        self.assertEqual(caught.exception.request_id, proxy.seen[0][2]["x-request-id"])
        self.assertEqual(len(proxy.seen), 3)

    def test_no_server_at_all(self):
        with socket.socket() as s:  # a port nothing listens on
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        c = Client(f"http://127.0.0.1:{port}/functions/v1", ALICE_TOKEN, retries=2, backoff=0.01)
        with self.assertRaises(ConnectionFailed) as caught:
            c.runs.stats()
        self.assertIn("after 3 attempts", str(caught.exception))
        self.assertIsNone(caught.exception.status)
        self.assertRegex(caught.exception.request_id, r"^[0-9a-f]{32}$")
        self.assertIsInstance(caught.exception, ServiceUnavailable)

    def test_puts_and_deletes_carry_no_idempotency_key(self):
        proxy, c = self.with_proxy()
        run_id = c.runs.create(unique("put"), {"objectives": ["QED"]})["run_id"]
        c.runs.set_blog_post(run_id, "https://blog.example.com/p")
        c.runs.delete_objectives(run_id)
        self.assertEqual([("idempotency-key" in h) for _, _, h in proxy.seen], [True, False, False])


if __name__ == "__main__":
    unittest.main()
