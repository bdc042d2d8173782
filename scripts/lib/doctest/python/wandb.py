"""A stand-in for W&B's client in the documented examples (scripts/docs_test.ts).

CI has no network and no ``wandb`` package; the examples use only what this
module has: ``wandb.init()`` makes ``wandb.run`` with an id, a URL and a
summary (a dict whose ``_json_dict`` is itself), as the real client does.
"""
import uuid as _uuid

run = None


class _Summary(dict):
    @property
    def _json_dict(self):
        return dict(self)


class _Run:
    def __init__(self, project, config):
        self.id = _uuid.uuid4().hex[:8]
        self.project = project
        self.config = dict(config or {})
        self.url = f"https://wandb.ai/doc-team/{project}/runs/{self.id}"
        self.summary = _Summary(_step=0, _runtime=0.0)


def init(project=None, config=None, **_):
    global run
    run = _Run(project, config)
    return run
