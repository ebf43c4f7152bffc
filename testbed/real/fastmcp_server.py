"""A task-tracker MCP server written the way a developer writes one with FastMCP.

It is one of mcpfuzz's real-server fixtures: no planted bugs, nothing tuned to the fuzzer,
just the SDK's usual shapes (typed tools, enums, optional and list/dict parameters, a
resource, a resource template, a prompt, logging and progress through the Context).
Needs the Python MCP SDK 1.x (`mcp.server.fastmcp`); scripts/install-real-servers puts it
in <cache>/venv-fastmcp:

    <cache>/venv-fastmcp/bin/python testbed/real/fastmcp_server.py
"""

from __future__ import annotations

import asyncio
import statistics
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from enum import Enum
from typing import Any, Literal

from mcp.server.fastmcp import Context, FastMCP

mcp = FastMCP("task-tracker", instructions="Track tasks, estimate effort, plan the week.")

Priority = Literal["low", "normal", "high", "urgent"]


class Unit(str, Enum):
    """Units of effort that estimates can be converted between."""

    minutes = "minutes"
    hours = "hours"
    days = "days"


MINUTES_PER = {Unit.minutes: 1, Unit.hours: 60, Unit.days: 8 * 60}


@dataclass
class Task:
    """One task on the board."""

    id: int
    title: str
    priority: str = "normal"
    due: str | None = None
    tags: list[str] = field(default_factory=list)
    done: bool = False


TASKS: dict[int, Task] = {}
NEXT_ID = 1


def _find(task_id: int) -> Task:
    task = TASKS.get(task_id)
    if task is None:
        raise ValueError(f"no task with id {task_id}")
    return task


@mcp.tool()
def add_task(
    title: str,
    priority: Priority = "normal",
    due_in_days: int | None = None,
    tags: list[str] | None = None,
) -> dict[str, Any]:
    """Add a task. `due_in_days` counts from today; tags are free-form labels."""
    global NEXT_ID
    title = title.strip()
    if not title:
        raise ValueError("the title must not be empty")
    due = None
    if due_in_days is not None:
        if due_in_days < 0:
            raise ValueError("due_in_days must not be negative")
        due = (date.today() + timedelta(days=due_in_days)).isoformat()
    task = Task(NEXT_ID, title, priority, due, sorted(set(tags or [])))
    TASKS[task.id] = task
    NEXT_ID += 1
    return asdict(task)


@mcp.tool()
def list_tasks(
    status: Literal["open", "done", "all"] = "open",
    tag: str | None = None,
    limit: int = 20,
) -> list[dict[str, Any]]:
    """List tasks, most urgent first."""
    order = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
    tasks = [
        task
        for task in TASKS.values()
        if (status == "all" or task.done == (status == "done")) and (tag is None or tag in task.tags)
    ]
    tasks.sort(key=lambda task: (order[task.priority], task.due or "9999", task.id))
    return [asdict(task) for task in tasks[: max(limit, 0)]]


@mcp.tool()
def complete_task(task_id: int) -> str:
    """Mark a task as done."""
    task = _find(task_id)
    task.done = True
    return f"completed #{task.id}: {task.title}"


@mcp.tool()
def update_task(task_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    """Change fields of a task: any of title, priority, due, tags."""
    task = _find(task_id)
    allowed = {"title", "priority", "due", "tags"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
    for name, value in changes.items():
        setattr(task, name, value)
    return asdict(task)


@mcp.tool()
def convert_effort(amount: float, from_unit: Unit, to_unit: Unit = Unit.hours) -> str:
    """Convert an effort estimate between minutes, hours and (8-hour) days."""
    minutes = amount * MINUTES_PER[from_unit]
    return f"{minutes / MINUTES_PER[to_unit]:g} {to_unit.value}"


@mcp.tool()
def estimate_stats(estimates: list[float]) -> dict[str, float]:
    """Summary statistics of a list of effort estimates, in hours."""
    if not estimates:
        raise ValueError("give at least one estimate")
    stats = {
        "count": len(estimates),
        "total": sum(estimates),
        "mean": statistics.fmean(estimates),
        "median": statistics.median(estimates),
    }
    if len(estimates) > 1:
        stats["stdev"] = statistics.stdev(estimates)
    return stats


@mcp.tool()
async def import_tasks(lines: list[str], ctx: Context) -> str:
    """Import tasks, one title per line; `!` at the start marks a high-priority one."""
    added = 0
    for index, line in enumerate(lines):
        await ctx.report_progress(index, len(lines), f"line {index + 1}")
        line = line.strip()
        if not line:
            await ctx.debug(f"skipping empty line {index + 1}")
            continue
        priority: Priority = "high" if line.startswith("!") else "normal"
        add_task(line.lstrip("!"), priority)
        added += 1
        await asyncio.sleep(0)
    await ctx.report_progress(len(lines), len(lines), "done")
    await ctx.info(f"imported {added} of {len(lines)} lines")
    return f"imported {added} tasks"


@mcp.tool()
async def clear_done(ctx: Context, dry_run: bool = True) -> str:
    """Remove completed tasks (only count them with dry_run)."""
    done = [task.id for task in TASKS.values() if task.done]
    if dry_run:
        return f"{len(done)} tasks would be removed"
    for task_id in done:
        del TASKS[task_id]
    await ctx.warning(f"removed {len(done)} completed tasks")
    return f"removed {len(done)} tasks"


@mcp.resource("tasks://summary", mime_type="text/plain")
def summary() -> str:
    """How many tasks are open and done."""
    done = sum(task.done for task in TASKS.values())
    return f"{len(TASKS) - done} open, {done} done"


@mcp.resource("tasks://{task_id}", mime_type="application/json")
def task_resource(task_id: str) -> dict[str, Any]:
    """One task as JSON."""
    return asdict(_find(int(task_id)))


@mcp.prompt()
def plan_week(focus: str, hours_available: str = "40") -> str:
    """Ask for a weekly plan built from the open tasks."""
    open_tasks = "\n".join(f"- [{task.priority}] {task.title}" for task in TASKS.values() if not task.done)
    return (
        f"I have {hours_available} hours this week and want to focus on {focus}.\n"
        f"Open tasks:\n{open_tasks or '(none)'}\n"
        "Suggest what to do each day, most important first."
    )


if __name__ == "__main__":
    mcp.run()
