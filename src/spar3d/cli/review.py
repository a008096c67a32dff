"""``spar3d review``: curate a benchmark, a SPAR-7M tree or a run in the browser; agreement of
two reviewers; export of the accepted items as a new benchmark."""

from __future__ import annotations

import getpass
from pathlib import Path

import typer

from spar3d.cli._options import ProgressFlag, QuietFlag, Split, folded


def _reviewer(name: str | None) -> str:
    from spar3d.paths import check_component

    if name:
        return check_component(name, "--reviewer", "the command line")
    try:
        return getpass.getuser() or "reviewer"
    except (KeyError, OSError):
        return "reviewer"


def _decisions_path(root: Path, decisions: Path | None, reviewer: str) -> Path:
    return decisions or root / "review" / f"decisions-{reviewer}.jsonl"


def _check_keys(state: dict, known: dict, path: Path) -> None:
    """Refuse decisions about items the reviewed folder does not hold (a log of another one)."""
    from spar3d.errors import InputError

    unknown = sorted(set(state) - set(known))
    if unknown:
        shown = ", ".join(unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        raise InputError(
            f"{path}: {len(unknown)} decision key(s) name no item of the reviewed folder: {shown}"
        )


def review_command(
    path: Path = typer.Argument(
        ..., help="Benchmark folder, SPAR-7M tree, or `spar3d eval` run folder."
    ),
    run: Path | None = typer.Option(None, help="A run folder to show beside a benchmark."),
    flags: Path | None = typer.Option(
        None, help="Flags JSONL from `spar3d verify` (default: PATH/verify/flags.jsonl if present)."
    ),
    decisions: Path | None = typer.Option(
        None, help="Decisions JSONL to append to (default: PATH/review/decisions-REVIEWER.jsonl)."
    ),
    reviewer: str | None = typer.Option(None, help="Reviewer name (default: the login name)."),
    export: Path | None = typer.Option(
        None,
        help="Where 'export accepted' writes the new benchmark (default: PATH/review/accepted).",
    ),
    split: Split = typer.Option(Split.val, help="Split of a SPAR-7M tree."),
    host: str = typer.Option("127.0.0.1", help="Address to bind (default: this machine only)."),
    port: int = typer.Option(8765, min=1, max=65535, help="Port."),
) -> None:
    """Serve the review app: filters, images with markers, keyboard decisions written as made."""
    import uvicorn
    from rich.console import Console

    from spar3d.review.app import create_app
    from spar3d.review.data import ReviewData
    from spar3d.review.decisions import DecisionLog

    console = Console()
    data = ReviewData(path, run=run, flags=flags, split=split.value)
    who = _reviewer(reviewer)
    log = DecisionLog(_decisions_path(data.root, decisions, who), who)
    _check_keys(log.state(), data.index, log.path)  # a malformed log is named before serving
    app = create_app(data, log, export or data.root / "review" / "accepted")
    if host not in ("127.0.0.1", "localhost", "::1"):
        console.print(f"[yellow]binding {host}: anyone who can reach this address can review")
    console.print(
        f"{len(data.items)} items from {data.root}; decisions: {log.path}\n"
        f"open http://{host}:{port}/ (Ctrl-C to stop; every decision is already on disk)"
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")


def agree_command(
    a: Path = typer.Argument(..., help="First reviewer's decisions JSONL."),
    b: Path = typer.Argument(..., help="Second reviewer's decisions JSONL."),
) -> None:
    """Agreement of two reviewers (Cohen's kappa) on the items both accepted or rejected."""
    from rich.console import Console
    from rich.table import Table

    from spar3d.review.decisions import cohen_kappa, final_labels

    res = cohen_kappa(final_labels(a), final_labels(b))
    table = Table(title=f"{a.name} (rows) vs {b.name} (columns)")
    labels = sorted(res.table)
    table.add_column("")
    for lab in labels:
        table.add_column(lab, justify="right")
    for x in labels:
        table.add_row(x, *(str(res.table[x][y]) for y in labels))
    console = Console()
    console.print(folded(table))
    console.print(
        f"items decided by both: {res.n}; observed agreement {res.observed:.3f}; "
        f"Cohen's kappa {res.kappa:.3f}; only in A: {res.only_a}; only in B: {res.only_b}"
    )


def export_command(
    path: Path = typer.Argument(..., help="The folder that was reviewed."),
    decisions: Path = typer.Option(..., help="Decisions JSONL."),
    out: Path = typer.Option(..., help="Output benchmark folder."),
    split: Split = typer.Option(Split.val, help="Split of a SPAR-7M tree."),
    progress: ProgressFlag = True,
    quiet: QuietFlag = False,
) -> None:
    """Write the accepted items as a new benchmark (Parquet + provenance)."""
    from spar3d.errors import InputError
    from spar3d.review.data import ReviewData
    from spar3d.review.decisions import DecisionLog
    from spar3d.review.export import export_accepted

    if not decisions.is_file():
        raise InputError(f"{decisions}: no such decisions file")
    data = ReviewData(path, split=split.value)
    state = DecisionLog(decisions).state()
    _check_keys(state, data.index, decisions)
    info = export_accepted(data, state, out, progress=progress and not quiet)
    typer.echo(f"exported {info['rows']} accepted items to {out}")


def register(app: typer.Typer) -> None:
    app.command("review")(review_command)
    app.command("review-agree")(agree_command)
    app.command("review-export")(export_command)
