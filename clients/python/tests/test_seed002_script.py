"""Seed 002's callers, unchanged but for the import line: the launch script
registering a run and its conversation, the training wrapper marking it
running and completed, the crash notifier, the blog workflow, and the
README's example queries, against the real registry.
"""
import json
import os
import time
import unittest
from collections import defaultdict
from datetime import datetime, timedelta

from training_registry import compat
# The one changed line. Was: from apis.training_db import ...
from training_registry.compat import (
    attach_blog_post, attach_conversation, attach_crash_data, get_run, get_stats, init_db, insert_run, query_runs,
    update_run_status,
)

from .support import ALICE_TOKEN, unique

TAG = unique("s2")
MGDA, PCGRAD = f"mgda_{TAG}", f"pcgrad_{TAG}"


def setUpModule():
    # What a training machine has in its environment; the scripts below configure nothing.
    os.environ["TRAINING_REGISTRY_TOKEN"] = ALICE_TOKEN
    compat.configure()


# -- the seed's scripts, in their own words ------------------------------------

def launch_ec2(run_id, config, chain_of_custody_id):
    """launch_ec2.py: the run record at launch, then the conversation that asked for it."""
    insert_run(
        run_id=run_id,
        wandb_run_id=None,
        config_dict=config,
        chain_of_custody_id=chain_of_custody_id,
        run_name=f"{config['training']['gradient_method']}_4gpu_test",
        config_file_path="/path/to/config.yaml",
        host="ec2",
        instance_id="i-abc123",
    )
    attach_conversation(run_id, f"conversations/{run_id}/conversation.json")


def train_py(run_id, hours, summary):
    """The training wrapper: running at start, completed with W&B's summary at the end."""
    start_time = time.time() - hours * 3600
    update_run_status(
        run_id=run_id,
        status="running",
        wandb_run_id=f"wb_{run_id}",
        wandb_url=f"https://wandb.ai/team/molecules/runs/wb_{run_id}",
        started_at=datetime.utcnow() - timedelta(hours=hours),
    )
    update_run_status(
        run_id=run_id,
        status="completed",
        ended_at=datetime.utcnow(),
        duration_seconds=int(time.time() - start_time),
        final_metrics_json=summary,
    )


def notify_and_analyze_crash(run_id):
    """crash_notifications.py: the status, then the three S3 keys."""
    update_run_status(run_id, "crashed")
    attach_crash_data(
        run_id,
        error_log_s3_key=f"crash-reports/{run_id}/error.log",
        crash_report_s3_key=f"crash-reports/{run_id}/report.md",
        crash_analysis_s3_key=f"crash-reports/{run_id}/analysis.md",
    )


def config_for(method, batch_size=64):
    return {"training": {"batch_size": batch_size, "learning_rate": 1e-3, "beta": 0.04, "gradient_method": method,
                         "num_gpus": 4}, "objectives": [{"name": "COMT_activity", "alias": "COMT_activity_maximize"}]}


class SeedTwoScripts(unittest.TestCase):
    def test_init_db_is_a_reachability_check(self):
        self.assertIsNone(init_db())

    def test_launch_running_completed(self):
        run_id = unique("mgda_i")
        launch_ec2(run_id, config_for(MGDA), "XYZ789")
        launched = get_run(run_id)
        self.assertEqual(launched["status"], "launched")
        self.assertIsNone(launched["wandb_run_id"])
        self.assertEqual(launched["conversation_s3_key"], f"conversations/{run_id}/conversation.json")

        summary = {"train/loss": 0.41, "objectives/COMT_activity_maximize/raw_mean": 0.86, "_step": 1200}
        train_py(run_id, 2.5, summary)
        run = get_run(run_id)
        print(f"Status: {run['status']}, Batch size: {run['batch_size']}")
        self.assertEqual(run["status"], "completed")
        self.assertEqual((run["batch_size"], run["gradient_method"], run["host"]), (64, MGDA, "ec2"))
        self.assertEqual(run["wandb_run_id"], f"wb_{run_id}")
        self.assertAlmostEqual(run["duration_seconds"], 2.5 * 3600, delta=5)
        self.assertEqual(run["chain_of_custody_id"], "XYZ789")
        # JSON columns come back as the JSON text SQLite held, so json.loads still works on them.
        self.assertEqual(json.loads(run["config_json"]), config_for(MGDA))
        self.assertEqual(json.loads(run["final_metrics_json"]), summary)
        self.assertEqual((run["final_loss"], run["total_training_steps"]), (0.41, 1200))
        self.assertEqual(run["objectives"][0]["raw_mean"], 0.86)

    def test_a_crash(self):
        run_id = unique("pcgrad_i")
        launch_ec2(run_id, config_for(PCGRAD), "ABC123")
        update_run_status(run_id, "running", wandb_run_id=f"wb_{run_id}")
        notify_and_analyze_crash(run_id)
        run = get_run(run_id)
        self.assertEqual(run["status"], "crashed")
        self.assertEqual(run["crash_analysis_s3_key"], f"crash-reports/{run_id}/analysis.md")
        self.assertIsNotNone(run["ended_at"])

        # "Analyze Crashes by Method"
        crashes_by_method = defaultdict(list)
        for crashed in query_runs(filters={"status": "crashed"}, limit=200):
            crashes_by_method[crashed["gradient_method"] or "unknown"].append(crashed)
        self.assertEqual([r["run_id"] for r in crashes_by_method[PCGRAD]], [run_id])
        with_analysis = sum(1 for r in crashes_by_method[PCGRAD] if r["crash_analysis_s3_key"])
        self.assertEqual(with_analysis, 1)

    def test_the_readme_queries(self):
        # Methods of this test's own, so the other tests' runs do not count.
        MGDA, PCGRAD = unique("mgda"), unique("pcgrad")  # noqa: N806
        hours = {"a": 2.0, "b": 0.5, "c": 3.0, "d": 1.5}
        methods = {"a": MGDA, "b": MGDA, "c": PCGRAD, "d": MGDA}
        ids = {k: unique(f"q{k}") for k in hours}
        custody = unique("QRY")
        for key, run_id in ids.items():
            launch_ec2(run_id, config_for(methods[key]), custody)
            train_py(run_id, hours[key], {"train/loss": hours[key] / 10,
                                          "objectives/COMT_activity_maximize/raw_mean": 0.5 + hours[key] / 10})
        crashed = unique("qcrash")
        launch_ec2(crashed, config_for(MGDA), custody)
        notify_and_analyze_crash(crashed)
        attach_blog_post(ids["a"], "https://app.michaelnagle.bio/posts/mgda-analysis")

        # "Get all completed MGDA runs from last week", longest first
        runs = query_runs(
            filters={
                "status": "completed",
                "gradient_method": MGDA,
                "created_after": (datetime.utcnow() - timedelta(days=7)).isoformat() + "Z",
                "min_duration_hours": 1.0,
            },
            order_by="duration_seconds DESC",
            limit=50,
        )
        print(f"Found {len(runs)} MGDA runs")
        for run in runs:
            print(f"  {run['run_name']}: {run['duration_seconds']/3600:.1f}h")
        self.assertEqual([r["run_id"] for r in runs], [ids["a"], ids["d"]])

        # "Compare Gradient Methods"
        success = {}
        for method in [MGDA, PCGRAD]:
            done = query_runs(filters={"gradient_method": method, "status": "completed", "min_duration_hours": 1}, limit=100)
            crashed_runs = query_runs(filters={"gradient_method": method, "status": "crashed"})
            success[method] = len(done) / (len(done) + len(crashed_runs))
            avg_duration = sum(r["duration_seconds"] for r in done if r["duration_seconds"]) / len(done) if done else 0
            print(f"{method}: {len(done)} completed, {success[method]*100:.1f}% success, avg {avg_duration/3600:.1f}h")
        self.assertEqual(success, {MGDA: 2 / 3, PCGRAD: 1.0})

        # "Find Runs Without Blog Posts"
        completed_no_blog = query_runs(
            filters={"status": "completed", "min_duration_hours": 1, "has_blog_post": False, "gradient_method": MGDA},
            order_by="duration_seconds DESC",
            limit=20,
        )
        self.assertEqual([r["run_id"] for r in completed_no_blog], [ids["d"]])
        for run in completed_no_blog:
            print(f"  {run['run_name']} ({run['duration_seconds']/3600:.1f}h)  Config: {run['config_file_path']}  W&B: {run['wandb_url']}")

        # "Find Best Performing Runs": metrics parsed from final_metrics_json
        ranked = []
        for run in query_runs(filters={"status": "completed", "min_duration_hours": 1, "chain_of_custody_id": custody},
                              order_by="created_at DESC", limit=100):
            if run["final_metrics_json"]:
                comt = json.loads(run["final_metrics_json"]).get("objectives/COMT_activity_maximize/raw_mean")
                if comt:
                    ranked.append((run, comt))
        ranked.sort(key=lambda x: x[1], reverse=True)
        self.assertEqual([run["run_id"] for run, _ in ranked], [ids["c"], ids["a"], ids["d"]])

    def test_stats_keep_the_seed_keys(self):
        before = get_stats()
        run_id = unique("stats")
        launch_ec2(run_id, config_for(MGDA), "STA001")
        notify_and_analyze_crash(run_id)
        attach_blog_post(run_id, "https://blog.example.com/posts/crash")
        stats = get_stats()
        print(f"Total runs: {stats['total_runs']}  Running: {stats['running']}  Crashed: {stats['crashed']}  "
              f"With blog posts: {stats['with_blog_posts']}")
        self.assertEqual(set(stats), {"total_runs", "launched", "running", "completed", "failed", "crashed",
                                      "with_blog_posts", "with_crash_analysis"})
        delta = {k: stats[k] - before[k] for k in stats}
        self.assertEqual(delta, {"total_runs": 1, "launched": 0, "running": 0, "completed": 0, "failed": 0, "crashed": 1,
                                 "with_blog_posts": 1, "with_crash_analysis": 1})


if __name__ == "__main__":
    unittest.main()
