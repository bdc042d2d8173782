"""Where the drop-in module and the registry's rules meet: what the seed did
that the registry refuses (and says so), None as "not given", naive times,
auto-paging past the server's page size, and the seed's return shapes.
"""
import os
import unittest
from datetime import datetime, timedelta, timezone

from training_registry import BadRequest, Client, Conflict, Unauthorized, compat
from training_registry.compat import (
    attach_crash_data, get_run, get_stats, insert_run, query_runs, query_runs_by_objectives, update_run_status,
)

from .support import ALICE_TOKEN, URL, unique


def setUpModule():
    os.environ["TRAINING_REGISTRY_TOKEN"] = ALICE_TOKEN
    compat.configure()


class CompatRules(unittest.TestCase):
    def test_get_run_of_no_such_run_is_none(self):
        self.assertIsNone(get_run(unique("missing")))

    def test_a_retried_launch_is_fine_a_different_one_conflicts(self):
        run_id = unique("launch")
        self.assertEqual(insert_run(run_id, None, {"lr": 1}), run_id)
        self.assertEqual(insert_run(run_id, None, {"lr": 1}), run_id)
        with self.assertRaises(Conflict) as caught:
            insert_run(run_id, None, {"lr": 2})
        self.assertIn("already exists", str(caught.exception))
        self.assertRegex(caught.exception.request_id, r"^[0-9a-f]{32}$")

    def test_the_lifecycle_is_enforced(self):
        run_id = insert_run(unique("life"), None, {})
        update_run_status(run_id, "completed")
        with self.assertRaises(Conflict) as caught:
            update_run_status(run_id, "running")
        self.assertIn("is completed", caught.exception.detail)
        with self.assertRaises(Conflict):
            attach_crash_data(run_id, error_log_s3_key="crash-reports/x/error.log")
        # The same status again changes nothing and is no error.
        self.assertEqual(update_run_status(run_id, "completed")["status"], "completed")

    def test_none_is_not_given_and_naive_times_are_utc(self):
        run_id = insert_run(unique("none"), None, {"training": {"batch_size": 8}}, None, run_name=None, host=None)
        started = datetime.utcnow() - timedelta(hours=1)  # naive, as the seed's scripts make them
        run = update_run_status(run_id, "running", started_at=started, wandb_run_id=None, wandb_url=None,
                                final_metrics_json=None)
        stored = datetime.fromisoformat(run["started_at"].replace("Z", "+00:00"))
        self.assertLess(abs(stored - started.replace(tzinfo=timezone.utc)), timedelta(milliseconds=1))
        done = update_run_status(run_id, "completed", ended_at=datetime.utcnow().isoformat())  # naive ISO text
        self.assertAlmostEqual(done["duration_seconds"], 3600, delta=60)
        self.assertEqual([r["run_id"] for r in query_runs({"run_id": run_id, "host": None, "status": None})], [run_id])

    def test_crash_data_marks_crashed_and_a_failed_run_stays_failed(self):
        run_id = insert_run(unique("crash"), None, {})
        run = attach_crash_data(run_id, error_log_s3_key="crash-reports/a/error.log")
        self.assertEqual((run["status"], run["error_log_s3_key"]), ("crashed", "crash-reports/a/error.log"))
        failed = insert_run(unique("failed"), None, {})
        update_run_status(failed, "failed")
        self.assertEqual(attach_crash_data(failed, crash_report_s3_key="crash-reports/b/report.md")["status"], "failed")

    def test_query_runs_pages_through_and_stops_at_limit(self):
        host = unique("pager")
        ids = [insert_run(unique("p"), None, {}, host=host) for _ in range(7)]
        saved = compat.PAGE_SIZE
        compat.PAGE_SIZE = 2  # several pages without thousands of runs
        try:
            newest_first = [r["run_id"] for r in query_runs({"host": host}, limit=None)]
            self.assertEqual(newest_first, ids[::-1])
            self.assertEqual([r["run_id"] for r in query_runs({"host": host}, order_by="run_id ASC", limit=5)], sorted(ids)[:5])
            self.assertEqual(len(query_runs({"host": host})), 7)  # the seed's default limit of 100
        finally:
            compat.PAGE_SIZE = saved

    def test_any_column_filters_and_unknown_ones_are_refused(self):
        run_id = insert_run(unique("cols"), None, {"training": {"learning_rate": 3e-4, "model_name": "Qwen's-7B"}})
        found = query_runs({"learning_rate": 3e-4, "model_name": "Qwen's-7B", "run_id": run_id})
        self.assertEqual([r["run_id"] for r in found], [run_id])
        with self.assertRaises(BadRequest) as caught:
            query_runs({"no_such_column": 1})
        self.assertEqual(caught.exception.paths, ["filter"])
        with self.assertRaises(ValueError):
            query_runs({"status = 'x' OR 1": 1})
        with self.assertRaises(BadRequest):
            query_runs(order_by="nonsense DESC")

    def test_query_runs_by_objectives_with_no_match(self):
        self.assertEqual(query_runs_by_objectives({unique("obj"): {"min": 0.1}}, gradient_method=None, status=None), [])

    def test_stats_and_configure(self):
        self.assertEqual(get_stats()["total_runs"], Client(URL, ALICE_TOKEN).runs.stats()["total_runs"])
        other = compat.configure(client=Client(URL, "not-a-token", retries=0))
        try:
            self.assertIs(compat._registry(), other)
            with self.assertRaises(Unauthorized):
                get_stats()
        finally:
            compat.configure()


if __name__ == "__main__":
    unittest.main()
