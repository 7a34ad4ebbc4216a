"""The module build benchmark's figures as a compact table."""

from __future__ import annotations

from typing import Any


def print_table(figures: dict[str, Any]) -> None:
    """Print the figures as a compact table."""
    f = figures
    rows = [
        (
            f"module builds: N={f['modules']} modules x M={f['components']}"
            f" components, {f['batches']} batches",
            "",
        ),
        ("  component builds (incl. module-build-macros)", f["component_builds"]),
        (
            "  Koji round trips per component (target <= 4)",
            f"{f['koji_round_trips_per_component']}"
            f"  ({f['koji_round_trips']} requests)",
        ),
        (
            "  SQL statements per state change",
            f"{f['sql_statements_per_state_change']}  ({f['sql_statements']}"
            f" statements, {f['sql_transactions']} transactions,"
            f" {f['trace_rows']} trace rows)",
        ),
        (
            "  wall time, first submission to all ready",
            f"{f['wall_seconds_to_ready']} s  ({f['scheduler_cycles']} cycles;"
            f" submissions took {f['submit_seconds']} s;"
            f" kojisim answering {f['kojisim_seconds_phase1']} s)",
        ),
        (f"poll cycle with {f['open_tasks']} open tasks", ""),
        (
            "  cycle seconds min / median / max (target < 1)",
            f"{f['cycle_seconds_min']} / {f['cycle_seconds_median']}"
            f" / {f['cycle_seconds_max']}",
        ),
        (
            "  of which kojisim answering / ridad (medians)",
            f"{f['cycle_kojisim_seconds_median']} s / {f['cycle_ridad_seconds_median']} s",
        ),
        (
            "  Koji round trips / SQL statements per cycle",
            f"{f['cycle_round_trips']} / {f['cycle_sql_statements']}",
        ),
        ("peak memory (ru_maxrss, whole process)", f"{f['peak_rss_mib']} MiB"),
    ]
    width = max(len(label) for label, _ in rows)
    print()
    for label, value in rows:
        print(f"{label.ljust(width)}  {value}".rstrip())
    for title, key in (
        ("Koji requests by kind", "koji_requests_by_kind"),
        ("SQL statements by kind", "sql_statements_by_kind"),
    ):
        print(f"{title} (phase 1):")
        for kind, n in list(f[key].items())[:8]:
            print(f"  {n:7d}  {kind}")
