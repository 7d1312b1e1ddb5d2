"""``workbench redact FILE --out FILE``: blur faces and plates in a still image or a clip."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "target", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="where the redacted copy goes (.png/.jpg for an image, .mp4 for a clip)")
@click.option("--only", nargs=4, type=float, default=None,
              help="blur everything but this box (x0 y0 x1 y1, shares of the image): release to the press")
def redact(source: Path, target: Path, only: tuple[float, float, float, float] | None) -> None:
    """Blur the faces and plates of a still image or a clip, with the same code as an evidence export."""
    from workbench.evidence.redact_file import redact_file

    done = redact_file(source, target, only=only)
    click.echo(f"{target}: {done['frames']} picture(s), {done['faces_blurred']} face and "
               f"{done['plates_blurred']} plate blurs")
