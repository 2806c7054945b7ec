"""engine.config.fields: a field added to RunConfig reaches every surface with no other edit."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine.config.fields import check_files, data_fields, keyed_fields, settings
from engine.config.run_config import RunConfig

# Run in a fresh process: RunConfig gains a throw-away field (a subclass put where the class is
# named, engine.config.run_config.RunConfig) before any surface is imported, as an edit would.
SCRIPT = textwrap.dedent(
    """
    import io, contextlib, sys
    from pathlib import Path
    from pydantic import Field
    from engine.config import run_config

    class WithKnob(run_config.RunConfig):
        throwaway_knob: float = Field(1.5, ge=0, le=9, description="a throw-away knob for the test")

    run_config.RunConfig = WithKnob

    from engine.cli import main
    from engine.config.files import load_run_config
    from engine.config.sweep_spec import expand, validate_spec
    from engine.dashboard.form import form_settings

    help_text = io.StringIO()
    with contextlib.redirect_stdout(help_text):
        try:
            main(["run", "--help"])
        except SystemExit:
            pass
    flat = " ".join(help_text.getvalue().replace("│", " ").split())
    assert "--throwaway-knob" in flat and "a throw-away knob for the test" in flat, flat
    path = Path(sys.argv[1]) / "c.toml"
    path.write_text("throwaway_knob = 2.5\\n")
    assert load_run_config(path).throwaway_knob == 2.5
    spec = validate_spec({"name": "s", "strategies": [{"name": "ma-trend"}], "throwaway_knob": 3.0})
    assert spec.throwaway_knob == 3.0 and expand(spec)[0].config.throwaway_knob == 3.0
    try:
        validate_spec({"name": "s", "strategies": [{"name": "ma-trend"}], "throwaway_knob": 99.0})
        raise AssertionError("the bound was not copied")
    except ValueError as exc:
        assert "throwaway_knob" in str(exc)
    assert "throwaway_knob" in [s.name for s in form_settings()]
    print("ok")
    """
)


def test_a_throwaway_field_appears_in_help_config_files_sweep_specs_and_the_form(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-2000:]


def test_settings_read_bounds_defaults_and_tags_from_the_fields() -> None:
    cost = next(s for s in settings() if s.name == "cost_bps")
    assert cost.default == 5.0 and cost.bounds == {"ge": 0, "le": 10_000} and cost.cli == "--cost-bps"
    assert next(s for s in settings() if s.name == "execution_lag").cli == "--lag"
    assert next(s for s in settings() if s.name == "seeds").cli is None  # the command spells it
    assert set(data_fields()) == {
        "data", "start", "end", "tickers", "headlines", "headline_model", "headline_date_only",
        "headline_column", "time_column", "timezone",
    }  # fmt: skip
    assert "device" not in keyed_fields() and "cost_bps" in keyed_fields()


def test_a_csv_setting_naming_no_file_is_one_line_before_any_data_load(tmp_path: Path) -> None:
    missing = tmp_path / "rates.csv"
    with pytest.raises(ValueError, match=r"cash_rate csv:.*: no such file"):
        check_files(RunConfig(cash_rate=f"csv:{missing}"))
    missing.write_text("date,rate\n")
    check_files(RunConfig(cash_rate=f"csv:{missing}"))  # present: the reader judges its rows


def test_the_cash_rate_is_parsed_once_by_its_type() -> None:
    assert RunConfig(cash_rate="0.03").cash_rate == 0.03
    assert RunConfig(cash_rate=" csv:r.csv ").cash_rate == "csv:r.csv"
    with pytest.raises(ValueError, match="divide percentages by 100"):
        RunConfig(cash_rate="5.2")
