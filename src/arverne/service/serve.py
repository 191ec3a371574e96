"""``arverne serve``: uvicorn with several worker processes over one network directory."""

from __future__ import annotations

import os
from pathlib import Path

from arverne.service.settings import ENV_SETTINGS, ENV_TOKEN, ServiceSettings


def read_token(path: Path | None) -> str | None:
    """The bearer token of writes: the file's text, else ``$ARVERNE_TOKEN``.

    None when neither gives one (writes are then refused).
    """
    text = path.read_text("utf-8").strip() if path is not None else os.environ.get(ENV_TOKEN)
    return text or None


def serve(settings: ServiceSettings) -> None:
    """Serve the API on ``settings.host:settings.port`` with ``settings.workers`` processes.

    The workers are separate processes (uvicorn's supervisor restarts one that dies); each
    builds its app from the settings, which travel in the environment. The network is
    checked here first, so a bad directory is refused before any worker starts.

    Parameters
    ----------
    settings
        The service's settings.
    """
    import uvicorn

    from arverne.network.network import Network

    Network.load(settings.network_dir)
    os.environ[ENV_SETTINGS] = settings.to_env()
    uvicorn.run(
        "arverne.service.app:create_app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level="warning",
        access_log=False,
        limit_concurrency=None,
        timeout_keep_alive=5,
    )
