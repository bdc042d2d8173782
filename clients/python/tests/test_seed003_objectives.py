"""Seed 003's data flow and example queries through the drop-in module: the
whole config and W&B summary stored, extracted fields queried, objectives
derived from both and queried by threshold, per method and per objective.
Objective and method names carry a tag so the numbers are this test's alone.
"""
import json
import os
import unittest

from training_registry import compat
from training_registry.compat import (
    compare_gradient_methods, delete_run_objectives, get_objective_statistics, get_run, get_run_objectives, insert_run,
    query_runs, query_runs_by_objectives, update_run_status,
)
from training_registry.errors import Forbidden

from .support import ALICE_TOKEN, BOB_TOKEN, client, unique

TAG = unique("s3")
COMT, DRD5, QED = f"COMT_activity_{TAG}", f"DRD5_activity_{TAG}", f"QED_{TAG}"
MGDA, PCGRAD = f"mgda_{TAG}", f"pcgrad_{TAG}"


def setUpModule():
    os.environ["TRAINING_REGISTRY_TOKEN"] = ALICE_TOKEN
    compat.configure()


def config(method, batch_size=64):
    """A YAML config as launch_ec2.py loads it: everything, objectives included."""
    return {
        "training": {"batch_size": batch_size, "learning_rate": 1e-3, "gradient_accumulation_steps": 4, "gradient_method": method},
        "objectives": [
            {"name": COMT, "alias": f"{COMT}_maximize", "weight": 1.0, "direction": "maximize", "params": {"uniprot": "P21964"}},
            {"name": DRD5, "alias": f"{DRD5}_maximize", "weight": 0.5, "direction": "maximize", "params": {"uniprot": "P21918"}},
            {"name": QED, "alias": f"{QED}_maximize", "weight": 0.25},
        ],
        "reward": {"kind": "weighted_sum"},
    }


def launch_and_finish(method, comt, drd5, status="completed", batch_size=64):
    """At launch the whole config; on completion the whole W&B summary (seed 003's data flow)."""
    run_id = unique(f"{method}_i")
    insert_run(run_id=run_id, wandb_run_id=None, config_dict=config(method, batch_size), chain_of_custody_id="OBJ003")
    update_run_status(run_id, "running")
    summary = {
        f"objectives/{COMT}_maximize/raw_mean": comt, f"objectives/{COMT}_maximize/normalized_mean": comt + 0.03,
        f"objectives/{DRD5}_maximize/raw_mean": drd5, "train/loss": round(1 - comt, 3), "_step": 5000, "_runtime": 7200.5,
    }
    if status == "completed":
        update_run_status(
            run_id=run_id,
            status="completed",
            final_metrics_json=summary,
            final_loss=summary.get("train/loss"),
            total_training_steps=summary.get("_step"),
            duration_seconds=summary.get("_runtime"),
        )
    else:
        update_run_status(run_id, status)
    return run_id


class SeedThreeObjectives(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.best = launch_and_finish(MGDA, 0.86, 0.74)
        cls.mid = launch_and_finish(MGDA, 0.81, 0.65)
        cls.pc = launch_and_finish(PCGRAD, 0.83, 0.79, batch_size=32)
        cls.crashed = launch_and_finish(MGDA, 0.0, 0.0, status="crashed")

    def test_everything_stored_and_extracted(self):
        run = get_run(self.best)
        self.assertEqual(json.loads(run["config_json"]), config(MGDA))
        self.assertEqual(json.loads(run["final_metrics_json"])["train/loss"], 0.14)
        self.assertEqual((run["final_loss"], run["total_training_steps"], run["duration_seconds"]), (0.14, 5000, 7200.5))
        self.assertEqual((run["num_objectives"], run["gradient_accumulation_steps"], run["batch_size"]), (3, 4, 64))

    def test_fast_queries_on_extracted_fields(self):
        runs = query_runs(filters={"gradient_method": MGDA, "batch_size": 64, "num_objectives": 3, "status": "completed"})
        self.assertEqual({r["run_id"] for r in runs}, {self.best, self.mid})
        by_accumulation = query_runs(filters={"gradient_method": PCGRAD, "gradient_accumulation_steps": 4})
        self.assertEqual([r["run_id"] for r in by_accumulation], [self.pc])

    def test_objectives_of_a_run(self):
        objectives = {o["objective_name"]: o for o in get_run_objectives(self.best)}
        self.assertEqual(set(objectives), {COMT, DRD5, QED})
        self.assertEqual(objectives[COMT]["uniprot"], "P21964")
        self.assertEqual((objectives[COMT]["raw_mean"], objectives[COMT]["normalized_mean"]), (0.86, 0.89))
        self.assertIsNone(objectives[QED]["raw_mean"])
        self.assertEqual(get_run_objectives(unique("missing")), [])

    def test_query_runs_by_objectives(self):
        # "Find runs with COMT > 0.8 AND DRD5 > 0.7"
        runs = query_runs_by_objectives({COMT: {"min": 0.8}, DRD5: {"min": 0.7}})
        self.assertEqual({r["run_id"] for r in runs}, {self.best, self.pc})
        # "MGDA runs with COMT > 0.8 and DRD5 > 0.7"
        runs = query_runs_by_objectives(objective_filters={COMT: {"min": 0.8}, DRD5: {"min": 0.7}}, gradient_method=MGDA,
                                        status="completed")
        self.assertEqual([r["run_id"] for r in runs], [self.best])
        self.assertEqual(len(query_runs_by_objectives({COMT: {"min": 0.8, "max": 0.82}})), 1)

    def test_compare_gradient_methods(self):
        results = compare_gradient_methods(DRD5)
        for r in results:
            print(f"{r['gradient_method']}: avg={r['avg']:.3f}, best={r['best']:.3f}")
        self.assertEqual([r["gradient_method"] for r in results], [PCGRAD, MGDA])
        mgda = results[1]
        self.assertAlmostEqual(mgda["avg"], (0.74 + 0.65) / 2)
        self.assertEqual((mgda["best"], mgda["num_runs"], mgda["crashed"]), (0.74, 2, 1))
        self.assertEqual(compare_gradient_methods(unique("nobody_has_it")), [])

    def test_objective_statistics(self):
        stats = get_objective_statistics(COMT)
        self.assertEqual(stats["count"], 3)
        self.assertAlmostEqual(stats["mean"], (0.86 + 0.81 + 0.83) / 3)
        self.assertEqual((stats["min"], stats["max"]), (0.81, 0.86))
        self.assertEqual(get_objective_statistics(COMT, gradient_method=PCGRAD)["count"], 1)
        self.assertEqual(get_objective_statistics(COMT, metric="normalized_mean")["max"], 0.89)
        empty = get_objective_statistics(unique("nobody_has_it"))
        self.assertEqual((empty["count"], empty["mean"]), (0, None))

    def test_delete_run_objectives(self):
        run_id = launch_and_finish(unique("mgda"), 0.5, 0.5)
        with self.assertRaises(Forbidden):  # not Bob's run
            client(BOB_TOKEN).runs.delete_objectives(run_id)
        self.assertEqual(delete_run_objectives(run_id), 3)
        self.assertEqual(get_run_objectives(run_id), [])


if __name__ == "__main__":
    unittest.main()
