"""Python client for the training registry, standard library only.

    from training_registry import Client, training_run
    client = Client()                      # TRAINING_REGISTRY_URL, TRAINING_REGISTRY_TOKEN
    client.runs.create("mgda_i-0abc", config, host="ec2")

``training_registry.compat`` is the seeds' runs API as a drop-in module.
"""
__version__ = "0.1.0"

from .client import Client, Download, Page, Pager  # noqa: E402
from .errors import (  # noqa: E402
    BadRequest, Conflict, ConnectionFailed, Forbidden, NotFound, RegistryError, ServerError, ServiceUnavailable,
    Unauthorized,
)
from .training import TrainingRun, training_run  # noqa: E402

__all__ = [
    "Client", "Download", "Page", "Pager", "TrainingRun", "training_run", "RegistryError", "BadRequest", "Unauthorized",
    "Forbidden", "NotFound", "Conflict", "ServerError", "ServiceUnavailable", "ConnectionFailed",
]
