"""``ConfigReloader``: validate a changed config, hand it to ``apply``, then record it in history.

Triggers: ``reload()`` (the admin endpoint), SIGHUP (``install_sighup``) and a file watcher
(``start_watching``: polls the file's content hash). An invalid config is rejected with its
path-named errors and the old one stays in force; so does one that ``apply`` raises on.
``rollback`` re-applies a stored config, validated again, and writes it back to the file.

Peers: every worker and replica records what it applies in the shared config history, so the
newest history row is a reload notice for the others. ``start_watching`` also polls it (every
``peer_poll_s``); a row naming another config than the one in force makes this process re-read
its own file. When that file gives a different config, it says so in the log with both hashes:
the file (the ConfigMap, the mounted volume) is the source of truth here, never a peer.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
import os
import signal
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from interlock.config.load import ConfigError, LoadedConfig, parse_config, policy_path
from interlock.config.history import ConfigHistory

log = logging.getLogger("interlock.config.reload")
Apply = Callable[[LoadedConfig], None]


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    status: Literal["applied", "unchanged", "rejected"]
    trigger: str
    hash: str | None
    previous_hash: str | None = None
    problems: tuple[str, ...] = ()

    @property
    def applied(self) -> bool:
        return self.status == "applied"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "trigger": self.trigger,
            "config_hash": self.hash,
            "previous_hash": self.previous_hash,
            "errors": list(self.problems),
        }


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def write_config_file(path: Path, text: str) -> None:
    """Replace the file atomically, keeping its mode, so a watcher never reads half a config."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class ConfigReloader:
    def __init__(
        self,
        path: str | Path,
        apply: Apply,
        *,
        current: LoadedConfig | None = None,
        history: ConfigHistory | None = None,
        poll_interval_s: float = 2.0,
        peer_poll_s: float = 1.0,
    ) -> None:
        """``current`` is the config already in force (loaded from ``path`` at startup)."""
        self.path = Path(path).absolute()  # history names the file; the CLI may run elsewhere
        self._apply = apply
        self._current = current
        self.history = history
        self.poll_interval_s = poll_interval_s
        self.peer_poll_s = peer_poll_s
        self._lock = threading.RLock()
        self._file_digest = self._read_digest()
        self._watcher: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None
        self._seen_notice: int | None = None  # the newest history row this process has acted on
        self._sighup_loop: asyncio.AbstractEventLoop | None = None

    @property
    def current(self) -> LoadedConfig | None:
        return self._current

    def record_current(self, reason: str = "startup") -> None:
        """Put the config in force at startup into history (a no-op when it is already the newest)."""
        if self.history is None or self._current is None:
            return
        text = self._read_text()
        try:
            same = text is not None and parse_config(text, str(self.path)).hash == self._current.hash
        except ConfigError:
            same = False
        current = dataclasses.replace(self._current, source=str(self.path)) if same else self._current
        self._seen_notice = self.history.record(current, text if same else None, reason=reason).id

    def reload(self, trigger: str = "admin") -> ReloadOutcome:
        """Read the file, validate it and apply it when its canonical hash changed."""
        with self._lock:
            try:
                text = self.path.read_text(encoding="utf-8")
            except OSError as exc:
                return self._rejected(trigger, [f"cannot read {self.path}: {exc.strerror}"])
            outcome = self._apply_text(text, trigger)
            self._file_digest = self._digest_with_policy(text)
            return outcome

    def rollback(self, hash_prefix: str, *, write_file: bool = True) -> ReloadOutcome:
        """Re-apply the stored config ``hash_prefix`` names; ``HistoryLookupError`` if none (or several) do.

        The stored text is validated again; only when it is in force is it written to the file, so
        the file, the watcher and the next SIGHUP agree with what runs.
        """
        if self.history is None:
            raise RuntimeError("rollback needs a config history")
        entry = self.history.get(hash_prefix)
        with self._lock:
            outcome = self._apply_text(entry.text, f"rollback to {entry.hash}")
            if outcome.status != "rejected" and write_file:
                try:
                    self._write_file(entry.text)
                except OSError as exc:  # e.g. a read-only mount: the config runs, the file lags
                    log.warning("config %s is in force; writing %s failed: %s", entry.hash, self.path, exc)
            return outcome

    def _apply_text(self, text: str, trigger: str) -> ReloadOutcome:
        previous = self._current.hash if self._current else None
        try:
            loaded = parse_config(text, source=str(self.path))
        except ConfigError as exc:
            return self._rejected(trigger, exc.problems)
        if loaded.hash == previous:
            return ReloadOutcome("unchanged", trigger, previous, previous)
        try:
            self._apply(loaded)
        except Exception as exc:
            log.exception("applying config %s failed; %s stays in force", loaded.hash, previous)
            return self._rejected(trigger, [f"applying the config failed: {type(exc).__name__}: {exc}"])
        self._current = loaded
        if self.history is not None:
            try:
                self._seen_notice = self.history.record(loaded, text, reason=trigger).id
            except Exception:
                log.exception("config %s is in force but could not be recorded in history", loaded.hash)
        log.info("config %s applied (%s); was %s", loaded.hash, trigger, previous)
        return ReloadOutcome("applied", trigger, loaded.hash, previous)

    def _rejected(self, trigger: str, problems: list[str]) -> ReloadOutcome:
        current = self._current.hash if self._current else None
        log.warning(
            "config reload (%s) rejected; %s stays in force:\n%s",
            trigger,
            current,
            "\n".join(f"  {p}" for p in problems),
        )
        return ReloadOutcome("rejected", trigger, current, current, tuple(problems))

    def _read_text(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8")
        except OSError:
            return None

    def _read_digest(self) -> str | None:
        text = self._read_text()
        return self._digest_with_policy(text) if text is not None else None

    def _digest_with_policy(self, text: str) -> str:
        """The file's digest, and the routing policy's it names: editing either reloads."""
        policy = policy_path(self._current.config, str(self.path)) if self._current is not None else None
        try:
            extra = policy.read_bytes().hex() if policy is not None else ""
        except OSError:
            extra = "unreadable"
        return _digest(text + extra)

    def _write_file(self, text: str) -> None:
        write_config_file(self.path, text)
        self._file_digest = self._digest_with_policy(text)

    def check_file(self) -> ReloadOutcome | None:
        """One watcher step: reload when the file's content changed since it was last read."""
        with self._lock:
            text = self._read_text()
            if text is None or self._digest_with_policy(text) == self._file_digest:
                return None
            outcome = self._apply_text(text, "file change")
            self._file_digest = self._digest_with_policy(text)  # after applying: the policy path may change
            return outcome

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval_s)
            try:
                self.check_file()
            except Exception:  # the watcher must outlive any one bad step
                log.exception("config file check failed")

    def check_peers(self, notice: tuple[int, str] | None) -> ReloadOutcome | None:
        """One listener step, given the newest history row ``(id, config hash)``: when another process
        applied a config other than the one in force here, re-read this process's file."""
        if notice is None or notice[0] == self._seen_notice:
            return None
        with self._lock:
            row, announced = notice
            first = self._seen_notice is None
            self._seen_notice = row
            current = self._current.hash if self._current else None
            if first or announced == current:
                return None  # the config this process started with, or already runs
            outcome = self.reload(f"config {announced} applied by another gateway")
            if outcome.hash != announced:
                file_state = ("is invalid" if outcome.status == "rejected"
                              else f"gives config {outcome.hash}")
                log.warning(
                    "another gateway applied config %s, but this gateway's file %s %s; config %s stays in "
                    "force here. Give every gateway the same config file (or reload them all).",
                    announced, self.path, file_state, outcome.hash)
            return outcome

    async def _listen(self) -> None:
        assert self.history is not None
        history = self.history
        while True:
            try:
                self.check_peers(await asyncio.to_thread(history.newest_notice))
            except Exception:  # a database hiccup must not end the listening
                log.exception("reading the config history for other gateways' changes failed")
            await asyncio.sleep(self.peer_poll_s)

    def start_watching(self) -> asyncio.Task[None]:
        """Poll the file every ``poll_interval_s`` on the running loop, and the history for peers' changes."""
        loop = asyncio.get_running_loop()
        if self._watcher is None or self._watcher.done():
            self._watcher = loop.create_task(self._watch(), name="config-watcher")
        if self.history is not None and (self._listener is None or self._listener.done()):
            self._listener = loop.create_task(self._listen(), name="config-peer-listener")
        return self._watcher

    def install_sighup(self, loop: asyncio.AbstractEventLoop | None = None) -> bool:
        """Reload on SIGHUP; ``False`` where the platform has no SIGHUP or the loop cannot take signals."""
        loop = loop or asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGHUP, self.reload, "SIGHUP")
        except (AttributeError, NotImplementedError, RuntimeError, ValueError):
            return False
        self._sighup_loop = loop
        return True

    async def aclose(self) -> None:
        """Stop the watcher and the SIGHUP handler."""
        if self._sighup_loop is not None:
            self._sighup_loop.remove_signal_handler(signal.SIGHUP)
            self._sighup_loop = None
        for task in (self._watcher, self._listener):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._watcher = self._listener = None


def unchanged_deployments(old: LoadedConfig, new: LoadedConfig) -> set[str]:
    """Deployments configured identically in both: their providers, health and breaker can carry over."""
    before = {d.name: d for d in old.config.deployments}
    return {d.name for d in new.config.deployments if before.get(d.name) == d}
