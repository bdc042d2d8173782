"""A training loop's whole life in the registry, as a context manager:

    with training_run("mgda_i-0abc", config, host="ec2") as run:
        train()                       # an exception marks the run crashed, then propagates
        run.metrics["eval/acc"] = 0.91

On entry the run is registered (a retried launch is answered with the stored
run) and marked running, with the W&B run's id and URL when ``wandb.init``
has made one by then, else at the end (``wandb.init`` inside the block). On a normal exit it is marked completed with its duration and
final metrics: ``wandb.run.summary`` when the script uses W&B, plus
``run.metrics``. On an exception it is marked crashed with the traceback (and
its S3 key, if you give one or a function that uploads it), and the exception
is raised again: the registry never swallows a training failure.
"""
from __future__ import annotations

import datetime as _dt
import math
import sys
import time
import traceback
import warnings
from typing import Any, Callable, Dict, Mapping, Optional, Union

from .client import Client

#: The server keeps at most this many characters of an error message.
MAX_ERROR_MESSAGE = 20000

CrashLogKey = Union[str, Callable[[str], Optional[str]]]


class TrainingRun:
    """The run a ``training_run`` block reports on; ``metrics`` are added to the final metrics."""

    def __init__(self, run_id: str, config: Mapping[str, Any], *, client: Optional[Client] = None,
                 crash_log_s3_key: Optional[CrashLogKey] = None, **launch: Any) -> None:
        self.run_id = run_id
        self.config = config
        self.client = client or Client()
        self.crash_log_s3_key = crash_log_s3_key
        self.launch = launch
        self.metrics: Dict[str, Any] = {}
        self.record: Optional[Dict[str, Any]] = None
        self._started = 0.0

    def __enter__(self) -> "TrainingRun":
        runs = self.client.runs
        runs.create(self.run_id, self.config, **self.launch)
        wandb_run = _wandb_run()
        self.record = runs.update_status(
            self.run_id, "running", started_at=_dt.datetime.now(_dt.timezone.utc),
            wandb_run_id=getattr(wandb_run, "id", None), wandb_url=getattr(wandb_run, "url", None))
        self._started = time.monotonic()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        duration = time.monotonic() - self._started
        # wandb.init() usually runs inside the block, after the run was marked running: its id and URL go with the end.
        wandb_run = _wandb_run()
        wandb_ids = {"wandb_run_id": getattr(wandb_run, "id", None), "wandb_url": getattr(wandb_run, "url", None)}
        if exc_type is None:
            self.record = self.client.runs.update_status(
                self.run_id, "completed", duration_seconds=duration, final_metrics=self.final_metrics() or None, **wandb_ids)
            return False
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        try:
            if wandb_run is not None and (self.record or {}).get("wandb_run_id") != wandb_ids["wandb_run_id"]:
                # the same status again changes nothing but the ids: where the crashed run's W&B logs are
                self.client.runs.update_status(self.run_id, "running", **wandb_ids)
            self.record = self.client.runs.report_crash(
                self.run_id, error_log_s3_key=self._crash_log_key(text), error_message=text[-MAX_ERROR_MESSAGE:])
        except Exception as failure:  # the training's own exception matters more than this report's
            warnings.warn(f"training_run: could not mark run {self.run_id} crashed: {failure!r}", RuntimeWarning)
        return False

    def final_metrics(self) -> Dict[str, Any]:
        """The W&B run's summary (when the script uses W&B) with ``metrics`` over it; non-finite numbers left out."""
        summary: Dict[str, Any] = {}
        wandb_run = _wandb_run()
        if wandb_run is not None:
            raw = getattr(wandb_run.summary, "_json_dict", None)
            summary.update(raw if isinstance(raw, Mapping) else dict(wandb_run.summary))
        summary.update(self.metrics)
        # JSON has no NaN or infinity; a diverged loss must not cost the run its completion.
        dropped = [k for k, v in summary.items() if isinstance(v, float) and not math.isfinite(v)]
        if dropped:
            warnings.warn(f"training_run: left out non-finite metrics {dropped}", RuntimeWarning)
        return {k: v for k, v in summary.items() if k not in dropped}

    def _crash_log_key(self, text: str) -> Optional[str]:
        if callable(self.crash_log_s3_key):
            try:
                return self.crash_log_s3_key(text)
            except Exception as failure:
                warnings.warn(f"training_run: uploading the traceback failed: {failure!r}", RuntimeWarning)
                return None
        return self.crash_log_s3_key


def training_run(run_id: str, config: Mapping[str, Any], *, client: Optional[Client] = None,
                 crash_log_s3_key: Optional[CrashLogKey] = None, **launch: Any) -> TrainingRun:
    """The context manager: ``launch`` takes ``runs.create``'s fields (``run_name``, ``host``, ``instance_id``,
    ``chain_of_custody_id``, ``config_file_path``, ``wandb_run_id``). ``crash_log_s3_key`` is the S3 key of the
    traceback, or a function that uploads the traceback text and answers its key."""
    return TrainingRun(run_id, config, client=client, crash_log_s3_key=crash_log_s3_key, **launch)


def _wandb_run() -> Any:
    # A script that logs to W&B has imported it already; importing it here would cost seconds and find no run.
    wandb = sys.modules.get("wandb")
    return getattr(wandb, "run", None) if wandb is not None else None
