"""Terminal reports (rich) drawn from a run's JSON form, so `run`, `show` and `compare` agree."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from engine.store import RunInfo


def pct(value: float | None, signed: bool = False, digits: int = 2) -> str:
    """A fraction as a percentage (0.1049 -> '10.49%'); '—' when undefined."""
    if value is None:
        return "—"
    return f"{value * 100:+.{digits}f}%" if signed else f"{value * 100:.{digits}f}%"


def num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _entries(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [*payload["strategies"], *payload["benchmarks"]]


LEGACY_BASIS = (
    "basis: not recorded (run stored before bases were tracked): prices as given "
    "(the S&P 500 index without dividends), cash earning 0%"
)


def basis_line(payload: dict[str, Any]) -> str:
    """The one line stating a run's basis (engine.basis), printed under every comparison."""
    basis = payload.get("basis") or {}
    return basis.get("statement") or LEGACY_BASIS


def render_run(payload: dict[str, Any], console: Console, *, yearly: bool = True, seeds: bool = True) -> None:
    """Comparison table, per-year yields and per-seed results of one run."""
    period = payload["period"]
    config = payload.get("config", {})
    data = payload.get("data", {})
    console.print(
        f"[bold]run {payload['run_id']}[/bold]  data {data.get('spec')} "
        f"({', '.join(data.get('tickers', [])[:6])}{'…' if len(data.get('tickers', [])) > 6 else ''})  "
        f"period {period['start']} .. {period['end']} ({period['years']:.1f} years)  "
        f"costs {config.get('cost_bps', 0):g} bps"
        + (f" + slippage {config['slippage_bps']:g} bps" if config.get("slippage_bps") else "")
    )
    console.print(summary_table(payload))
    console.print(f"[dim]{basis_line(payload)}[/dim]", highlight=False, soft_wrap=True)
    for line in evidence_lines(payload):
        console.print(line, highlight=False)
    for note in payload.get("notes", []):
        if note.startswith("WARNING"):  # implausible results: right under the numbers they qualify
            console.print(f"[bold red]{note}[/bold red]", highlight=False)
    if yearly:
        console.print(yearly_table(payload))
        console.print(f"[dim]{basis_line(payload)}[/dim]", highlight=False, soft_wrap=True)
    if seeds:
        for entry in payload["strategies"]:
            if entry.get("seeds"):
                console.print(seed_table(entry, payload["benchmark"]))
    if yearly:
        for entry in payload["strategies"]:
            if entry.get("picks"):
                console.print(picks_table(entry))
    if payload.get("universe"):
        from engine.universe import coverage_lines

        for line in coverage_lines(payload["universe"]):
            console.print(line, highlight=False)
    for note in payload.get("notes", []):
        if not note.startswith("WARNING"):
            console.print(f"[dim]note: {note}[/dim]")


def summary_table(payload: dict[str, Any]) -> Table:
    entries = _entries(payload)
    seeded = any(e.get("stochastic") for e in entries)
    table = Table(
        title="Strategy vs buy-and-hold, same period (CAGR from real dates)",
        title_justify="left",
        caption_justify="left",
        box=box.SIMPLE_HEAVY,
        pad_edge=False,
    )
    columns = [("strategy", "left"), ("CAGR", "right"), ("vs B&H", "right")]
    if seeded:
        columns += [("± std", "right"), ("worst .. best", "right"), ("beat B&H", "right")]
    columns += [("Sharpe", "right"), ("max DD", "right"), ("vol", "right"), ("in mkt", "right")]
    for col, justify in columns:
        table.add_column(col, justify=justify, no_wrap=True)
    bench_cagr = payload["benchmark"]["cagr"]

    def add(name: str, figures: dict[str, Any], agg: dict[str, Any] | None, benchmark: bool) -> None:
        excess = None if figures["cagr"] is None or bench_cagr is None else figures["cagr"] - bench_cagr
        row = [
            f"[cyan]{name}[/cyan]" if benchmark else name,
            pct(figures["cagr"]),
            "" if benchmark else pct(excess, signed=True),
        ]
        if seeded:
            row += (
                [
                    pct(agg["cagr_std"]),
                    f"{pct(agg['cagr_worst'])} .. {pct(agg['cagr_best'])}",
                    pct(agg["share_beating_benchmark"], digits=0),
                ]
                if agg
                else ["", "", ""]
            )
        row += [
            num(figures["sharpe"]),
            pct(figures["max_drawdown"]),
            pct(figures["volatility"]),
            pct(figures["exposure"], digits=0),
        ]
        table.add_row(*row)

    for entry in entries:
        stochastic = entry.get("stochastic")
        agg = entry["aggregate"] if stochastic else None
        add(entry["name"], entry, agg, entry["role"] == "benchmark")
        if entry.get("ensemble"):
            add(f"{entry['name']} ensemble", entry["ensemble"], None, False)
    if seeded:
        counts = ", ".join(f"{e['name']} {e['aggregate']['n_seeds']}" for e in entries if e.get("stochastic"))
        table.caption = (
            f"seeded strategies show means over their seeds ({counts}); "
            "'beat B&H' = share of seeds; ensemble = trading the seeds' mean prediction"
        )
    return table


def evidence_lines(payload: dict[str, Any]) -> list[str]:
    """The short 'is it a fluke?' block under the comparison table (see engine.evidence)."""
    blocks = payload.get("evidence") or {}
    if not blocks:
        return []
    bench = payload["benchmark"]["name"]
    lines = [f"[bold]Evidence vs {bench}[/bold] (same days; daily returns)"]
    for name, ev in blocks.items():
        # any figure can be undefined (None), e.g. PSR when the excess returns never vary
        # (a strategy that is buy-and-hold): printed as '—'
        low, high = (ev.get("mean_excess_ci95") or [None, None])[:2]
        seeds = len(ev.get("excess_cagr_by_seed") or [])
        text = (
            f"  {name}: mean excess CAGR {pct(ev.get('mean_excess_cagr'), True)}, 95% CI "
            f"[{pct(low, True)}, {pct(high, True)}], P(excess > 0) {num(ev.get('p_mean_excess_positive'))}"
        )
        if seeds > 1:
            text += f"; {pct(ev.get('share_seeds_beating'), digits=0)} of {seeds} seeds beat it"
            if "paired_t" in ev:
                text += f" (paired t across seeds p = {num(ev['paired_t'].get('p_value'), 3)})"
        lines.append(text)
        best = ev.get("best_seed") or {}
        who = f"best seed {best.get('seed')}" if seeds > 1 else "its"
        lines.append(
            f"    {who}: excess Sharpe {num(best.get('excess_sharpe_annual'))}/yr, "
            f"PSR {num(best.get('psr'))}, "
            f"DSR {num(best.get('dsr'))} over {best.get('trials')} trial(s) (chance alone reaches Sharpe "
            f"{num(best.get('expected_max_sharpe_annual'))}): {best.get('verdict') or '—'}"
        )
        ranks = ev.get("regression_to_mean")
        if ranks and ranks.get("rank_correlation") is not None:
            lines.append(
                f"    seed ranks, first vs second half: Spearman {ranks['rank_correlation']:+.2f}; the best "
                f"first-half seed ranks {ranks.get('best_first_fold_rank_later')} of {seeds} in the second"
            )
    first = next(iter(blocks.values()))
    lines.append(f"[dim]  method: {first.get('method', '')}[/dim]")
    lines.append(f"[dim]  {basis_line(payload)}[/dim]")
    return lines


def yearly_table(payload: dict[str, Any]) -> Table:
    entries = _entries(payload)
    table = Table(title="Yield per calendar year", title_justify="left", caption_justify="left")
    table.add_column("year")
    for entry in entries:
        table.add_column(entry["name"], justify="right")
    partial = set(payload["benchmark"].get("partial_years", []))
    years = list(payload["benchmark"]["yearly"])
    for year in years:
        label = f"{year}*" if int(year) in partial else year
        table.add_row(label, *(pct(e["yearly"].get(year)) for e in entries))
    notes = ["* partial year"] if partial else []
    if any(e.get("stochastic") for e in entries):
        notes.append("mean over seeds for seeded strategies")
    table.caption = "; ".join(notes)  # the basis line follows the table (render_run), unwrapped
    return table


def seed_table(entry: dict[str, Any], benchmark: dict[str, Any]) -> Table:
    table = Table(title=f"{entry['name']}: every seed", title_justify="left", caption_justify="left")
    for col in ("seed", "CAGR", "Sharpe", "max DD", "vs B&H"):
        table.add_column(col, justify="right")
    for row in entry["seeds"]:
        table.add_row(
            str(row["seed"]),
            pct(row["cagr"]),
            num(row["sharpe"]),
            pct(row["max_drawdown"]),
            pct(
                None if row["cagr"] is None or benchmark["cagr"] is None else row["cagr"] - benchmark["cagr"],
                signed=True,
            ),
        )
    agg = entry["aggregate"]
    table.caption = (
        f"mean {pct(agg['cagr_mean'])} ± {pct(agg['cagr_std'])} (std over seeds), median "
        f"{pct(agg['cagr_median'])}, best {pct(agg['cagr_best'])}, worst {pct(agg['cagr_worst'])}; "
        f"{pct(agg['share_beating_benchmark'], digits=0)} of seeds beat buy-and-hold "
        f"({pct(benchmark['cagr'])})"
    )
    return table


def picks_table(entry: dict[str, Any]) -> Table:
    """Tickers held each year by an annual strategy, and how many beat the universe's median stock."""
    main = (
        "ensemble"
        if entry.get("ensemble")
        else ("seed " + str(entry["seeds"][0]["seed"]) if entry.get("seeds") else "")
    )
    title = f"{entry['name']}: picks per year held" + (f" ({main})" if main else "")
    table = Table(title=title, title_justify="left", caption_justify="left")
    table.add_column("year")
    table.add_column("picks")
    table.add_column("beat median", justify="right")
    by_seed = entry.get("picks_by_seed") or {}
    if by_seed:
        table.add_column("most picked over seeds (count)")
    beat = entry.get("picks_beat_median", {})
    for year, tickers in entry["picks"].items():
        row = [year, " ".join(tickers), pct(beat.get("by_year", {}).get(year), digits=0)]
        if by_seed:
            row.append(" ".join(f"{t}({c})" for t, c in list(by_seed.get(year, {}).items())[:6]))
        table.add_row(*row)
    caption = "share of picks beating the universe's median stock over the year held: " + pct(
        beat.get("share"), digits=1
    )
    if beat.get("share_mean_over_seeds") is not None and by_seed:
        caption += f" (mean over seeds {pct(beat['share_mean_over_seeds'], digits=1)})"
    table.caption = caption
    return table


def _short_data(spec: str) -> str:
    scheme, sep, target = spec.partition(":")
    return f"{scheme}:{target.rsplit('/', 1)[-1]}" if sep and scheme in ("csv", "parquet") else spec


def runs_table(infos: Sequence[RunInfo]) -> Table:
    table = Table(title="Runs (newest first)", title_justify="left")
    for col in ("run", "status", "data", "strategies", "period", "CAGR (1st)", "B&H"):
        table.add_column(col, no_wrap=col in ("run", "status", "period"), overflow="fold")
    for info in infos:
        m = info.manifest
        headline = m.get("headline", {})
        status = {"complete": "[green]complete[/green]", "failed": "[red]failed[/red]"}.get(
            info.status, f"[yellow]{info.status}[/yellow]"
        )
        detail = f"\n[dim]{info.error[:70]}{'…' if len(info.error) > 70 else ''}[/dim]" if info.error else ""
        table.add_row(
            info.run_id,
            status,
            _short_data(str(m.get("config", {}).get("data", ""))),
            ", ".join(m.get("strategies", [])) + detail,
            headline.get("period", ""),
            headline.get("cagr", ""),
            headline.get("benchmark_cagr", ""),
        )
    return table


def compare_table(payloads: Sequence[dict[str, Any]]) -> Table:
    table = Table(title="Runs side by side", title_justify="left", caption_justify="left")
    for col, justify in (
        ("run", "left"),
        ("strategy", "left"),
        ("period", "left"),
        ("CAGR", "right"),
        ("± std", "right"),
        ("Sharpe", "right"),
        ("max DD", "right"),
        ("vs B&H", "right"),
        ("costs", "right"),
    ):
        table.add_column(col, justify=justify)
    for payload in payloads:
        period = f"{payload['period']['start']}..{payload['period']['end']}"
        for entry in _entries(payload):
            agg = entry["aggregate"]
            table.add_row(
                payload["run_id"],
                entry["name"],
                period,
                pct(entry["cagr"]),
                pct(agg["cagr_std"]) if entry.get("stochastic") else "",
                num(entry["sharpe"]),
                pct(entry["max_drawdown"]),
                pct(entry["excess_cagr"], signed=True) if entry["role"] != "benchmark" else "",
                f"{payload.get('config', {}).get('cost_bps', 0):g} bps",
            )
    return table  # basis_lines(payloads) follow it


def basis_lines(payloads: Sequence[dict[str, Any]]) -> list[str]:
    """One basis line per run, for under a comparison of several runs (printed unwrapped)."""
    return [f"{p['run_id']}: {basis_line(p)}" for p in payloads]


def compare_yearly_table(payloads: Sequence[dict[str, Any]]) -> Table:
    columns = []
    for payload in payloads:
        for entry in _entries(payload):
            columns.append((f"{payload['run_id'][-6:]} {entry['name']}", entry["yearly"]))
    years = sorted({y for _, yearly in columns for y in yearly})
    table = Table(title="Yield per calendar year, side by side", title_justify="left", caption_justify="left")
    table.add_column("year")
    for name, _ in columns:
        table.add_column(name, justify="right")
    for year in years:
        table.add_row(year, *(pct(yearly.get(year)) for _, yearly in columns))
    return table  # basis_lines(payloads) follow it


def ablation(with_payload: dict[str, Any], without_payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Per strategy and seed: CAGR with and without headlines and the difference (same seeds)."""
    rows = []
    others = {e["name"]: e for e in without_payload["strategies"]}
    for entry in with_payload["strategies"]:
        other = others.get(entry["name"])
        if other is None:
            continue
        pairs = (
            [(s["seed"], s["cagr"], o["cagr"]) for s, o in zip(entry["seeds"], other["seeds"], strict=True)]
            if entry.get("seeds")
            else [("-", entry["cagr"], other["cagr"])]
        )
        for seed, a, b in pairs:
            rows.append(
                {
                    "strategy": entry["name"],
                    "seed": seed,
                    "with": a,
                    "without": b,
                    "difference": None if a is None or b is None else a - b,
                }
            )
    return rows


def ablation_table(with_payload: dict[str, Any], without_payload: dict[str, Any]) -> Table:
    rows = ablation(with_payload, without_payload)
    table = Table(
        title="Headlines ablation: CAGR per seed, same seeds and period",
        title_justify="left",
        caption_justify="left",
    )
    for col in ("strategy", "seed", "with headlines", "without", "difference"):
        table.add_column(col, justify="left" if col == "strategy" else "right")
    for r in rows:
        table.add_row(
            r["strategy"], str(r["seed"]), pct(r["with"]), pct(r["without"]), pct(r["difference"], True)
        )
    diffs = [r["difference"] for r in rows if r["difference"] is not None]
    if diffs:
        import numpy as np

        table.caption = (
            f"mean difference {pct(float(np.mean(diffs)), True)} ± "
            f"{pct(float(np.std(diffs, ddof=1)) if len(diffs) > 1 else 0.0)}"
            f" (std over seeds); headlines helped in {sum(d > 0 for d in diffs)} of {len(diffs)}"
        )  # the basis line follows the table (cli), unwrapped
    return table
