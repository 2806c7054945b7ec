"""One audit pass in a fresh interpreter: ``python -m engine.workflows.audit_worker JOB OUT``.

``JOB`` is a pickle of :class:`engine.workflows.audit_passes.Pass` written by the auditing process
(the only process that writes it: nothing read here comes from a user's file);
``OUT`` receives a pickle of ``("ok", targets)`` or ``("error", message)``. A fresh
interpreter per pass means no module state, cache or memo from another pass, and
no data in memory but this pass's.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path


def main(job_path: str, out_path: str) -> None:
    from engine.workflows.audit_passes import run_pass

    job = pickle.loads(Path(job_path).read_bytes())
    Path(job_path).unlink()  # the pass's own data only; nothing else stays on disk
    result = run_pass(job)
    Path(out_path).write_bytes(pickle.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
