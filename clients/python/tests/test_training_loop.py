"""The training-loop context manager against the real server: registered,
running, completed with metrics (a dict, or W&B's summary when the script
uses W&B), and crashed with the traceback when the loop raises, the
exception propagating.
"""
import contextlib
import math
import sys
import types
import unittest

from training_registry import training_run

from .support import ALICE_TOKEN, client, unique


class FakeWandbRun:
    """What ``wandb.init()`` leaves in ``wandb.run``: an id, a URL and a summary (W&B is not installed here)."""

    def __init__(self, summary):
        self.id = unique("wb")
        self.url = f"https://wandb.ai/team/proj/runs/{self.id}"
        self.summary = types.SimpleNamespace(_json_dict=summary)


class TrainingLoop(unittest.TestCase):
    def setUp(self):
        self.client = client(ALICE_TOKEN)

    def test_registered_running_completed_with_a_dict_of_metrics(self):
        run_id = unique("loop")
        with training_run(run_id, {"training": {"batch_size": 8}}, client=self.client, host="ec2") as run:
            during = self.client.runs.get(run_id)
            run.metrics.update({"train/loss": 0.25, "eval/acc": 0.9})
        self.assertEqual((during["status"], during["host"], during["batch_size"]), ("running", "ec2", 8))
        self.assertIsNotNone(during["started_at"])
        done = self.client.runs.get(run_id)
        self.assertEqual(done["status"], "completed")
        self.assertEqual(done["final_metrics_json"], {"train/loss": 0.25, "eval/acc": 0.9})
        self.assertEqual(done["final_loss"], 0.25)
        self.assertGreaterEqual(done["duration_seconds"], 0)
        self.assertEqual(run.record["status"], "completed")

    def test_with_wandb_its_run_and_summary(self):
        wandb = types.ModuleType("wandb")
        wandb.run = FakeWandbRun({"train/loss": 0.5, "_step": 300, "diverged": math.nan})
        sys.modules["wandb"] = wandb
        self.addCleanup(sys.modules.pop, "wandb")
        run_id = unique("wandb")
        with self.assertWarns(RuntimeWarning):  # the NaN is left out, saying so
            with training_run(run_id, {}, client=self.client) as run:
                run.metrics["eval/acc"] = 0.75
        done = self.client.runs.get(run_id)
        self.assertEqual((done["wandb_run_id"], done["wandb_url"]), (wandb.run.id, wandb.run.url))
        self.assertEqual(done["final_metrics_json"], {"train/loss": 0.5, "_step": 300, "eval/acc": 0.75})
        self.assertEqual(done["total_training_steps"], 300)

    def test_wandb_init_inside_the_block_records_its_run_at_the_end(self):
        wandb = types.ModuleType("wandb")
        wandb.run = None
        sys.modules["wandb"] = wandb
        self.addCleanup(sys.modules.pop, "wandb")
        for outcome in ("completed", "crashed"):
            run_id = unique(f"late-wandb-{outcome}")
            with self.assertRaises(ZeroDivisionError) if outcome == "crashed" else contextlib.nullcontext():
                with training_run(run_id, {}, client=self.client) as run:
                    self.assertIsNone(run.record["wandb_run_id"])
                    wandb.run = FakeWandbRun({"_step": 7})           # what wandb.init() inside the block does
                    if outcome == "crashed":
                        1 / 0
            done = self.client.runs.get(run_id)
            self.assertEqual((done["status"], done["wandb_run_id"], done["wandb_url"]), (outcome, wandb.run.id, wandb.run.url))
            wandb.run = None

    def test_an_exception_marks_the_run_crashed_and_propagates(self):
        run_id = unique("boom")
        with self.assertRaises(ZeroDivisionError):
            with training_run(run_id, {}, client=self.client):
                1 / 0
        run = self.client.runs.get(run_id)
        self.assertEqual(run["status"], "crashed")
        self.assertIn("ZeroDivisionError: division by zero", run["error_message"])
        self.assertIn("Traceback (most recent call last)", run["error_message"])
        self.assertIsNone(run["error_log_s3_key"])

    def test_the_traceback_s3_key_given_or_uploaded(self):
        uploaded = []

        def upload(text):
            uploaded.append(text)
            return f"crash-reports/{run_id}/traceback.txt"

        run_id = unique("upload")
        with self.assertRaises(KeyError):
            with training_run(run_id, {}, client=self.client, crash_log_s3_key=upload):
                {}["missing"]
        run = self.client.runs.get(run_id)
        self.assertEqual(run["error_log_s3_key"], f"crash-reports/{run_id}/traceback.txt")
        self.assertIn("KeyError: 'missing'", uploaded[0])

        fixed = unique("fixed")
        with self.assertRaises(RuntimeError):
            with training_run(fixed, {}, client=self.client, crash_log_s3_key=f"crash-reports/{fixed}/error.log"):
                raise RuntimeError("NCCL timeout")
        self.assertEqual(self.client.runs.get(fixed)["error_log_s3_key"], f"crash-reports/{fixed}/error.log")

    def test_a_failed_crash_report_never_hides_the_training_error(self):
        run_id = unique("late")
        with self.assertWarns(RuntimeWarning) as warned, self.assertRaises(ValueError):
            with training_run(run_id, {}, client=self.client):
                self.client.runs.update_status(run_id, "completed")  # now the crash report is a 409
                raise ValueError("after the end")
        self.assertIn("could not mark run", str(warned.warning))
        self.assertEqual(self.client.runs.get(run_id)["status"], "completed")

    def test_a_retried_launch_of_the_same_run(self):
        run_id = unique("again")
        self.client.runs.create(run_id, {"a": 1})
        with training_run(run_id, {"a": 1}, client=self.client):
            pass
        self.assertEqual(self.client.runs.get(run_id)["status"], "completed")


if __name__ == "__main__":
    unittest.main()
