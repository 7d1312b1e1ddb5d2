"""``workbench sample build``: the embedded sample world."""

from __future__ import annotations

import click

from workbench.cli.common import settings_from
from workbench.samples import SAMPLE_SEED, TRAINING_TRAINEES, build_sample
from workbench.timeutil import as_utc


@click.group()
def sample() -> None:
    """Sample cases for demos, training and tests."""


@sample.command("build")
@click.option("--day", help="simulated day (YYYY-MM-DD); default: yesterday")
@click.option("--rebuild", is_flag=True, help="wipe the workbench home's catalogue and files first")
@click.option("--training", is_flag=True, help="a training world: trainee users, a training case each, short footage")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=SAMPLE_SEED, show_default=True,
              help="draws the traffic (with --training, also the suspect's hour): plates, times, suspect")
@click.option("--trainees", type=click.IntRange(1, 99), default=TRAINING_TRAINEES, show_default=True,
              help="with --training: how many trainee users (trainee.01, trainee.02...)")
def build(day: str | None, rebuild: bool, training: bool, seed: int, trainees: int) -> None:
    """Build the deterministic sample world (partners, users, agreements, cameras, cases).

        workbench sample build --training --seed 12      # a class's variant of the training world
    """
    click.echo(build_sample(settings_from(), day=as_utc(day).date() if day else None, rebuild=rebuild,
                            training=training, seed=seed, trainees=trainees))
