"""The running job on the page: re-attached after a reload, its progress, cancel, its outcome."""

from __future__ import annotations

import streamlit as st

from engine.dashboard import reads
from engine.dashboard.jobs import CANCELLED, Job, active_jobs, cancel_message


def follow_job() -> None:
    """Re-attach to a worker run recorded in the store (after a reload), then poll it while it lasts."""
    if st.session_state.get("job") is None and not st.session_state.get("attached"):
        st.session_state["attached"] = True  # once per session: a reload re-attaches, a dismissal sticks
        pending = active_jobs(reads.settings().runs_dir)
        if pending:
            st.session_state["job"] = pending[-1]
    if st.session_state.get("job") is not None:
        _follow_job()


@st.fragment(run_every=1.0)
def _follow_job() -> None:
    """Progress of the worker run; re-drawn every second on its own (the rest of the page stays usable)."""
    job: Job | None = st.session_state.get("job")
    if job is None:
        return
    status = job.poll()
    if status.state == "running":
        echo = job.info.get("echo") or {}
        names = ", ".join(s["name"] for s in echo.get("strategies", [])) or "default strategy"
        st.progress(status.fraction, text=f"running {names} on {echo.get('data', '?')} — {status.describe()}")
        if st.button("cancel", key="cancel"):
            job.cancel()
            _after_cancel(job)
            st.rerun()
        return
    if status.state != CANCELLED:  # _after_cancel reads the job's record before forgetting it
        st.session_state.pop("job")
        job.forget()
    if status.state == "gone":  # another page showed this outcome and removed the record
        st.rerun()
    if status.state == "done":
        where = reads.settings().runs_dir
        st.session_state["job_message"] = ("success", f"run {status.run_id} stored in {where}")
        st.session_state["last_run"] = status.run_id
    elif status.state == CANCELLED:  # cancelled from this or another page: the store says how it ended
        _after_cancel(job)
    else:
        st.session_state["job_message"] = ("error", f"the run failed: {status.error}")
    st.rerun()  # the whole page: show the new run, list it in the browser


def _after_cancel(job: Job) -> None:
    """The message after a cancel follows the store: a run published before the kill landed is complete."""
    status, run_id = job.stored_outcome()
    where = reads.settings().runs_dir
    st.session_state["job_message"] = cancel_message(status, run_id, where)
    if status == "complete":
        st.session_state["last_run"] = run_id
    job.forget()
    st.session_state.pop("job", None)
