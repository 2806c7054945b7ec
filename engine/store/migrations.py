"""Read-time migrations: how this version reads what older versions left out of a run folder.

A run folder is never rewritten when it is read (its files are checked against the digests its
manifest recorded). What an older version did not write, or wrote otherwise, is read here as this
version means it, and only here; each rule names what older runs lack:

- ``manifest.json`` ``created_at`` without a zone (before times were recorded in UTC): the local
  time of the machine reading it (:func:`created_utc`);
- ``manifest.json`` without ``files`` (before file digests were recorded): no digests, so the
  files are checked by their schemas alone (:func:`recorded_digests`);
- ``manifest.json`` without ``device.used`` (before devices were recorded): the CPU
  (:func:`device_used`);
- ``metrics.json`` without ``basis`` (before bases were tracked): prices as given, cash at 0%
  (:func:`basis_statement`, :data:`LEGACY_BASIS`);
- ``metrics.json`` without ``device``, ``fees_paid``, ``yearly_fees`` or ``aggregate.fees_paid_mean``:
  None, the default of those optional fields of the typed result
  (:class:`engine.store.result_schema.RunResult`); surfaces show them as undefined.

Fields a reader relies on and older runs do not have must be optional in the typed models (with
None or an empty default) and listed here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.store.result_schema import RunResult

LEGACY_BASIS = (
    "basis: not recorded (run stored before bases were tracked): prices as given "
    "(the S&P 500 index without dividends), cash earning 0%"
)


def created_utc(manifest: dict[str, Any]) -> dt.datetime | None:
    """The run's recorded creation time in UTC; None when it has none or it is not a time.

    Older manifests wrote a time without a zone: it is taken as local time, as it was written.
    """
    try:
        when = dt.datetime.fromisoformat(str(manifest["created_at"]))
    except (KeyError, ValueError):
        return None
    return when.astimezone(dt.UTC)  # a naive time is taken as local


def recorded_digests(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """File name -> {"bytes", "sha256"} recorded when the run was published; empty for runs
    published before digests were recorded (they are checked by schema alone)."""
    return manifest.get("files") or {}


def device_used(manifest: dict[str, Any]) -> str:
    """The device the run's strategies ran on (``cpu``, ``cuda:0``, ...); older runs: the CPU."""
    return str((manifest.get("device") or {}).get("used") or "cpu")


def basis_statement(result: RunResult) -> str:
    """The one line stating a run's basis; :data:`LEGACY_BASIS` for runs stored before bases
    were tracked (no ``basis``, or an empty statement)."""
    return (result.basis.statement if result.basis else "") or LEGACY_BASIS
