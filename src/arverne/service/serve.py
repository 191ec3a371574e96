"""``arverne serve``: uvicorn with several worker processes over one network directory."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import tempfile
from dataclasses import dataclass
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
    checked here first, so a bad directory is refused before any worker starts. The workers
    share their per-client rate counts in ``settings.shared_dir`` (when unset: the job folder,
    else a temporary folder removed when the service stops).

    Parameters
    ----------
    settings
        The service's settings.
    """
    import uvicorn

    from arverne.network.network import Network

    Network.load(settings.network_dir)
    with contextlib.ExitStack() as stack:
        if settings.shared_dir is None:
            shared = settings.job_dir or Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="arverne-serve-"))
            )
            settings = dataclasses.replace(settings, shared_dir=shared)
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


@dataclass(frozen=True)
class LiveSources:
    """The live sources of ``arverne serve`` (see :class:`ServiceSettings` for each field)."""

    realtime: tuple[str, ...] = ()
    realtime_every_s: float = 30.0
    gbfs: str | None = None
    gbfs_every_s: float = 60.0
    carpool: Path | None = None
    carpool_every_s: float = 300.0

    def checked(self) -> LiveSources:
        """These sources, local files refused at start when missing (a command-line mistake;
        later a missing file is a failed read, shown in ``/v1/status``).
        """
        from arverne.paths import check_input

        for src in (*self.realtime, self.gbfs, self.carpool):
            if src is not None and not str(src).startswith(("http://", "https://")):
                check_input(Path(src))
        return self


def serve_network(
    network_dir: Path,
    host: str,
    port: int,
    workers: int,
    store: str | None,
    ondemand: Path | None,
    jobs: Path | None,
    token_file: Path | None,
    live: LiveSources = LiveSources(),
) -> None:
    """``arverne serve``: settings from the command line (the token from ``token_file`` or
    ``$ARVERNE_TOKEN``, live sources), a line saying where it listens, then :func:`serve`.
    """
    from arverne.paths import check_input

    token = read_token(check_input(token_file) if token_file is not None else None)
    settings = ServiceSettings(
        network_dir=network_dir,
        store_dsn=store,
        ondemand_config=ondemand,
        job_dir=jobs,
        token=token,
        host=host,
        port=port,
        workers=workers,
        realtime_sources=live.checked().realtime,
        realtime_every_s=live.realtime_every_s,
        gbfs_source=live.gbfs,
        gbfs_every_s=live.gbfs_every_s,
        carpool_offers=live.carpool,
        carpool_every_s=live.carpool_every_s,
    )
    writes = "writes need the token" if token else "no token: writes are refused"
    print(f"serving {network_dir} on http://{host}:{port}/v1/docs ({writes})", file=sys.stderr)
    serve(settings)
