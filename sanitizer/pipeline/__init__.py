"""The pipeline that joins rules, masks and databases into a run."""

from sanitizer.pipeline.plan import ColumnPlan, Plan, TablePlan, make_plan, mask_frame
from sanitizer.pipeline.run import RunOptions, RunResult, run

__all__ = [
    "ColumnPlan",
    "Plan",
    "RunOptions",
    "RunResult",
    "TablePlan",
    "make_plan",
    "mask_frame",
    "run",
]
