"""The resource API on every route of every function, against the real
server. Each call the clients make is recorded and matched to the route it
hit; at the end, every operation in the functions' served OpenAPI documents
must have been called: a route the client lacks fails here.
"""
import io
import json
import os
import re
import tempfile
import unittest
import urllib.request
import uuid
from typing import Dict, List, Tuple

from training_registry import BadRequest, Conflict, NotFound
from training_registry.client import Pager

from .support import ALICE_TOKEN, SERVICE_TOKEN, URL, WEBHOOK_TOKEN, client, unique

CALLS: List[Tuple[str, str]] = []  # (method, path) of every call sent, in order


def recording(c):
    """The client, with every call it sends recorded (method and path, before the query)."""
    send = c.http.open

    def open_and_record(method, path, **kwargs):
        CALLS.append((method, path))
        return send(method, path, **kwargs)

    c.http.open = open_and_record
    return c


def served_operations() -> Dict[str, Tuple[str, "re.Pattern[str]", int]]:
    """operationId -> (method, path pattern, literal segments), from every function's openapi.json."""
    try:  # the gateway's 404 lists the functions
        urllib.request.urlopen(URL + "/")
    except urllib.error.HTTPError as answer:
        functions = [f["name"] for f in json.load(answer)["functions"]]
    operations = {}
    for name in functions:
        with urllib.request.urlopen(f"{URL}/{name}/openapi.json") as r:
            doc = json.load(r)
        for path, ops in doc["paths"].items():
            pattern = re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(path)) + "/?$")
            literal = sum(1 for seg in path.split("/") if seg and not seg.startswith("{"))
            for method, op in ops.items():
                operations[op["operationId"]] = (method.upper(), pattern, literal)
    return operations


def operation_of(method: str, path: str, operations) -> str:
    """The route a call hit: of the matching templates, the most literal (/runs/stats before /runs/{run_id})."""
    matches = [(literal, op) for op, (m, pattern, literal) in operations.items() if m == method and pattern.match(path)]
    return max(matches)[1] if matches else f"? {method} {path}"


class EveryRoute(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.alice = recording(client(ALICE_TOKEN))
        cls.service = recording(client(SERVICE_TOKEN))

    @classmethod
    def tearDownClass(cls):
        operations = served_operations()
        called = {operation_of(m, p, operations) for m, p in set(CALLS)}
        missing = sorted(set(operations) - called)
        print(f"\n{len(called & set(operations))} of {len(operations)} served operations called through the client")
        if missing:
            raise AssertionError(f"operations the tests never called through the client: {missing}")

    # -- runs -------------------------------------------------------------

    def test_runs(self):
        runs = self.alice.runs
        tag = unique("res")
        objective = f"COMT_{tag}"
        config = {"training": {"batch_size": 16, "gradient_method": tag}, "objectives": [{"name": objective}]}
        ids = [unique("r") for _ in range(3)]
        for run_id in ids:
            self.assertEqual(runs.create(run_id, config, host=tag, wandb_run_id=None)["status"], "launched")
        self.assertEqual(runs.get(ids[0])["batch_size"], 16)

        pager = runs.list(host=tag, page_size=2)
        self.assertIsInstance(pager, Pager)
        self.assertEqual([len(p.items) for p in pager.pages()], [2, 1])
        self.assertEqual([r["run_id"] for r in pager], ids[::-1])
        self.assertEqual([r["run_id"] for r in runs.list(filter=f"host = '{tag}' AND run_id != '{ids[0]}'", order_by="run_id ASC")],
                         sorted(ids[1:]))
        slim = list(runs.list(host=tag, select=["run_id", "status", "objectives"], page_size=2))
        self.assertEqual([list(r) for r in slim], [["run_id", "status", "objectives"]] * 3)
        self.assertEqual([r["run_id"] for r in slim], ids[::-1])
        self.assertEqual(slim[0]["objectives"][0]["objective_name"], objective)
        with self.assertRaises(BadRequest) as refused:
            runs.list(host=tag, select="run_id,confg_json").all()
        self.assertIn("unknown field confg_json", str(refused.exception))

        runs.update_status(ids[0], "running", wandb_run_id=f"wb_{ids[0]}", wandb_url="https://wandb.ai/t/p/runs/x")
        done = runs.update_status(ids[0], "completed", final_metrics={f"objectives/{objective}/raw_mean": 0.9},
                                  final_loss=0.2, total_training_steps=10)
        self.assertEqual((done["final_loss"], done["total_training_steps"]), (0.2, 10))
        crashed = runs.report_crash(ids[1], error_message="CUDA OOM", error_log_s3_key=f"crash-reports/{ids[1]}/e.log")
        self.assertEqual((crashed["status"], crashed["error_message"]), ("crashed", "CUDA OOM"))
        self.assertEqual(runs.set_blog_post(ids[0], "https://blog.example.com/p")["blog_post_url"], "https://blog.example.com/p")
        self.assertEqual(runs.set_conversation(ids[0], "conversations/c.json")["conversation_s3_key"], "conversations/c.json")
        stats = runs.stats()
        self.assertGreaterEqual(stats["by_status"]["completed"], 1)

        found = runs.query_by_objectives({objective: {"min": 0.5}}, gradient_method=tag, page_size=1)
        self.assertEqual([r["run_id"] for r in found], [ids[0]])
        self.assertEqual(runs.objective_stats(objective)["count"], 1)
        self.assertEqual(runs.compare_gradient_methods(objective)["methods"][0]["gradient_method"], tag)
        self.assertEqual(runs.delete_objectives(ids[2]), {"run_id": ids[2], "deleted": 1})

        # metadata for manual actions: at launch, merged by update (None removes a key / clears), searchable
        noted = runs.create(unique("r"), config, host=tag, metadata={"ticket": "ML-1", "notes": {"a": 1}})
        self.assertEqual(noted["metadata"], {"ticket": "ML-1", "notes": {"a": 1}})
        merged = runs.update(noted["run_id"], {"notes": {"a": None, "b": 2}, "reviewed": True})
        self.assertEqual(merged["metadata"], {"ticket": "ML-1", "notes": {"b": 2}, "reviewed": True})
        self.assertEqual([r["run_id"] for r in runs.list(filter=f"host = '{tag}' AND metadata.reviewed = true")], [noted["run_id"]])
        self.assertIsNone(runs.update(noted["run_id"], None)["metadata"])
        with self.assertRaises(BadRequest):
            runs.update(noted["run_id"], ["not", "an", "object"])  # type: ignore[arg-type]

        # seed 002's "compare gradient methods" without an objective
        by_method = runs.gradient_method_stats(filter=f"host = '{tag}'")["methods"]
        self.assertEqual(len(by_method), 1)
        self.assertEqual({k: by_method[0][k] for k in ("gradient_method", "runs", "completed", "crashed", "active", "success_rate")},
                         {"gradient_method": tag, "runs": 4, "completed": 1, "crashed": 1, "active": 2, "success_rate": 0.5})
        self.assertEqual(runs.gradient_method_stats(filter=f"host = '{tag}'", created_after="2999-01-01T00:00:00Z")["methods"], [])
        with self.assertRaises(NotFound):
            runs.get(unique("missing"))

    # -- packages -----------------------------------------------------------

    def test_packages(self):
        packages = self.alice.packages
        package = packages.create(unique("pkg"), template_type="lora_finetuning", config={"training": {"lr": 3e-4}})
        pid = package["id"]
        self.assertEqual(packages.get(pid)["name"], package["name"])
        self.assertIn(pid, [p["id"] for p in packages.list(page_size=1000)])
        self.assertEqual(packages.next_version_number(pid), 1)

        v1 = packages.create_version(pid, model_snapshot={"id": "meta-llama/Llama-3.1-8B"}, change_summary="first",
                                     budget_limit=60, name=None)
        self.assertEqual((v1["version_number"], v1["config_snapshot"]), (1, {"training": {"lr": 3e-4}}))
        edited = packages.update_version(v1["id"], change_summary=None, estimated_cost=40)  # None clears
        self.assertEqual((edited["change_summary"], edited["estimated_cost"]), (None, 40))
        published = packages.publish(v1["id"])
        self.assertEqual(published["status"], "published")
        with self.assertRaises(Conflict):
            packages.publish(v1["id"])
        v2 = packages.fork(v1["id"], name="more data")
        self.assertEqual(v2["parent_version_id"], v1["id"])
        packages.update_version(v2["id"], dataset_snapshot=[{"datasetId": "edge-cases"}])
        diff = packages.diff(v2["id"], against=v1["id"])
        self.assertFalse(diff["identical"])
        self.assertEqual(packages.get_version_by_number(pid, 2)["id"], v2["id"])
        self.assertEqual(packages.get_version(v1["id"])["snapshot_sha256"], published["snapshot_sha256"])
        self.assertEqual([v["version_number"] for v in packages.list_versions(pid)], [2, 1])
        self.assertEqual([v["version_number"] for v in packages.list_versions(pid, status="published")], [1])
        packages.update_training(v2["id"], budget_limit=10, actual_cost=12)
        self.assertEqual([v["version_number"] for v in packages.list_versions(pid, over_budget=True)], [2])
        self.assertEqual([v["version_number"] for v in packages.list_versions(pid, over_budget=False)], [1])
        self.assertEqual([a["threshold"] for a in packages.get_version(v2["id"])["cost_alerts_sent"]], [0.8, 1])
        deployed = packages.set_deployment(v1["id"], True, deployment_target="hf_space",
                                           deployment_url="https://huggingface.co/spaces/me/sft")
        self.assertTrue(deployed["is_deployed"])
        trained = packages.update_training(v1["id"], training_status="queued")
        self.assertEqual(trained["training_status"], "queued")
        self.assertEqual(packages.archive(v1["id"])["status"], "archived")
        self.assertTrue(packages.delete_version(v2["id"])["deleted"])

    # -- conversations --------------------------------------------------------

    def test_conversations(self):
        conversations = self.alice.conversations
        persona = unique("persona")
        turns = [{"role": "user", "content": "Can I retire at 60?"}, {"role": "assistant", "content": "Let us look."}]
        created = conversations.create(turns, persona=persona, status="pending_review",
                                       quality_metrics={"relevance": 9, "accuracy": 8}, conversation_id=unique("conv"))
        key = created["conversation_id"]
        self.assertEqual(conversations.get(key)["turn_count"], 2)
        self.assertEqual([c["conversation_id"] for c in conversations.list(persona=persona)], [key])
        self.assertIn(key, [c["conversation_id"] for c in conversations.review_queue(page_size=1000)])
        self.assertEqual(conversations.score(key)["conversation_id"], key)
        # Reviewing is for reviewers and the service role.
        approved = self.service.conversations.review(key, "approve", note="accurate")
        self.assertEqual(approved["status"], "approved")

        seen: List[int] = []
        with tempfile.TemporaryDirectory() as folder:
            download = conversations.export("jsonl", folder, filter={"persona": persona}, progress=seen.append)
            self.assertRegex(download.file_name, r"^conversations-\d{8}T\d{6}Z-openai\.jsonl$")
            self.assertEqual(download.path, os.path.join(folder, download.file_name))
            with open(download.path) as f:
                lines = [json.loads(line) for line in f]
            self.assertEqual(lines[0]["messages"][-1]["content"], "Let us look.")
            self.assertEqual(seen[-1], download.bytes)
            self.assertFalse(os.path.exists(download.path + ".part"))
        into = io.BytesIO()
        self.assertGreater(conversations.export("csv", into, filter={"persona": persona}).bytes, 0)
        self.assertIn(b"Can I retire at 60?", into.getvalue())
        logs = list(conversations.list_exports(page_size=1000))
        self.assertIn(download.export_id, [log["id"] for log in logs])

        job = conversations.rescore(filter={"persona": persona})
        self.assertEqual((job["status"], job["total_items"]), ("completed", 1))
        self.assertEqual(conversations.batch_job(job["id"])["processed_items"], 1)
        log = self.service.conversations.log_generation("claude-sonnet-4", input_tokens=1200, output_tokens=450,
                                                        cost_usd=0.0104, status="success")
        self.assertEqual(log["model_used"], "claude-sonnet-4")
        stats = self.service.conversations.generation_stats(from_="2020-01-01T00:00:00Z")
        self.assertIn("claude-sonnet-4", [i["model"] for i in stats["items"]])

        # Authoring: edit (turns replaced), submit; a draft deleted; archive.
        mine = conversations.create(turns, persona=persona, quality_metrics={"relevance": 9})
        edited = conversations.update(mine["id"], title="edited", turns=turns + [{"role": "user", "content": "And at 62?"}])
        self.assertEqual((edited["title"], edited["turn_count"]), ("edited", 3))
        self.assertEqual(conversations.submit(mine["id"])["status"], "pending_review")
        with self.assertRaises(Conflict):
            conversations.update(mine["id"], title="too late")
        self.assertEqual(conversations.archive(mine["id"])["status"], "archived")
        draft = conversations.create(turns, status="draft")
        self.assertTrue(conversations.delete(draft["id"])["deleted"])
        with self.assertRaises(NotFound):
            conversations.get(draft["id"])
        ordered = [c["quality_score"] for c in conversations.list(persona=persona, order="quality_score.desc")]
        self.assertEqual(ordered, sorted(ordered, key=lambda q: -1 if q is None else q, reverse=True))

        # Reviewers: the service role grants and revokes (an unknown user is not found).
        self.assertIsInstance(list(self.service.conversations.reviewers()), list)
        with self.assertRaises(NotFound):
            self.service.conversations.grant_reviewer(str(uuid.uuid4()))
        with self.assertRaises(NotFound):
            self.service.conversations.revoke_reviewer(str(uuid.uuid4()))

        # Templates, scenarios, edge cases.
        template = conversations.templates.create(template_name=unique("tpl"), tier="template", applicable_personas=[persona])
        self.assertEqual([t["id"] for t in conversations.templates.list(persona=persona)], [template["id"]])
        self.assertEqual(conversations.templates.update(template["id"], description="d")["description"], "d")
        self.assertEqual(conversations.templates.get(template["id"])["usage_count"], 0)
        self.assertFalse(conversations.templates.deactivate(template["id"])["is_active"])
        scenario = conversations.scenarios.create(name="s", parent_template_id=template["id"], persona=persona)
        self.assertEqual([s["id"] for s in conversations.scenarios.list(parent_template_id=template["id"])], [scenario["id"]])
        self.assertEqual(conversations.scenarios.update(scenario["id"], topic="t")["topic"], "t")
        self.assertEqual(conversations.scenarios.get(scenario["id"])["name"], "s")
        self.assertEqual(conversations.scenarios.deactivate(scenario["id"])["status"], "archived")
        edge = conversations.edge_cases.create(name="e", trigger_condition="vague", expected_behavior="ask", parent_template_id=template["id"])
        self.assertEqual([e["id"] for e in conversations.edge_cases.list(parent_template_id=template["id"], active=True)], [edge["id"]])
        self.assertEqual(conversations.edge_cases.update(edge["id"], test_status="passed")["test_status"], "passed")
        self.assertEqual(conversations.edge_cases.get(edge["id"])["name"], "e")
        self.assertFalse(conversations.edge_cases.deactivate(edge["id"])["is_active"])

        # Batch jobs (service role): validation runs to the end; generation is reported to, then finished.
        validation = self.service.conversations.start_batch_job("validation", filter={"persona": persona})
        self.assertEqual(validation["status"], "completed")
        generation = self.service.conversations.start_batch_job("generation", total_items=2)
        reported = self.service.conversations.report_batch_job(generation["id"], 0, 2)
        self.assertEqual(reported["processed_items"], 2)
        with self.assertRaises(Conflict):
            self.service.conversations.report_batch_job(generation["id"], 0, 2)
        self.assertEqual(self.service.conversations.finish_batch_job(generation["id"])["status"], "completed")

    # -- training examples ------------------------------------------------------

    def test_training_examples(self):
        examples = self.alice.training_examples
        cascade = unique("cascade")

        def events(n):
            for i in range(n):
                yield {"id": f"{cascade}-ev-{i}", "trace_id": f"{cascade}-tr-{i}", "cascade_id": cascade, "cell_name": "classify",
                       "node_type": "llm_call", "parent_id": None,
                       "request": {"messages": [{"role": "user", "content": f"Charged twice #{i}"}]},
                       "response": {"choices": [{"message": {"role": "assistant", "content": "billing"}}]}}

        ingests = lambda: CALLS.count(("POST", "/training-examples/logs"))  # noqa: E731
        before = ingests()
        totals = self.service.training_examples.log_batch(events(2500))
        self.assertEqual(totals, {"received": 2500, "inserted": 2500, "duplicates": 0})
        self.assertEqual(ingests() - before, 3)  # batches of 1,000, 1,000 and 500
        again = self.service.training_examples.log_batch(events(10), batch_size=4)
        self.assertEqual(again, {"received": 10, "inserted": 0, "duplicates": 10})
        with self.assertRaises(ValueError):
            examples.log_batch([], batch_size=1001)

        indexed = self.service.training_examples.run_search_index(limit=5000)
        self.assertIn("pending", indexed)
        trace = f"{cascade}-tr-7"
        self.assertEqual(examples.get(trace)["user_input"], "Charged twice #7")
        annotated = examples.annotate(trace, True, verified=True, confidence=0.95, tags=["golden"])
        self.assertTrue(annotated["trainable"])
        self.assertEqual([e["trace_id"] for e in examples.list(cascade_id=cascade, trainable=True)], [trace])
        self.assertEqual(sum(1 for _ in examples.list(cascade_id=cascade, page_size=1000)), 2500)
        shots = examples.few_shot(cascade_id=cascade, cell_name="classify", k=3, query="charged twice")
        self.assertEqual(([s["trace_id"] for s in shots["items"]], shots["total_available"]), ([trace], 1))
        self.assertEqual(examples.stats(cascade_id=cascade)["items"][0]["trainable"], 1)
        with tempfile.TemporaryDirectory() as folder:
            target = os.path.join(folder, "train.jsonl")
            download = examples.export(target, format="sharegpt", cascade_id=cascade)
            with open(target) as f:
                self.assertEqual(json.loads(f.readline())["conversations"][0]["value"], "Charged twice #7")
            self.assertEqual(download.path, target)
        self.assertTrue(examples.clear_annotation(trace)["cleared"])
        with self.assertRaises(BadRequest) as caught:
            self.service.training_examples.log_batch([{"id": "x", "trace_id": ""}])
        self.assertEqual(caught.exception.paths, ["items.0.trace_id"])

    # -- W&B webhook -------------------------------------------------------------

    @unittest.skipUnless(WEBHOOK_TOKEN, "TRAINING_REGISTRY_WEBHOOK_TOKEN: the server's WANDB_WEBHOOK_TOKEN")
    def test_wandb_webhook(self):
        webhook = self.alice.wandb_webhook
        run_id = unique("wb")
        created = webhook.report(run_id, "RUNNING", {"_timestamp": 1_800_000_000}, config={"lr": 1},
                                 wandb_run_id=f"wb_{uuid.uuid4().hex[:8]}")
        self.assertEqual((created["outcome"], created["run_id"]), ("created", run_id))
        finished = webhook.deliver({"run_id": run_id, "state": "FINISHED",
                                    "summary": {"train/loss": 0.3, "_timestamp": 1_800_000_100}}, secret="unused-here")
        self.assertEqual(finished["outcome"], "applied")
        self.assertEqual(self.alice.runs.get(run_id)["final_loss"], 0.3)


if __name__ == "__main__":
    unittest.main()
