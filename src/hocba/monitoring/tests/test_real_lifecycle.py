"""Records made by the real services (finish the class, compile) are counted like the oracle."""

from __future__ import annotations

from dataclasses import asdict

from hocba.conftest import World
from hocba.monitoring import reports
from hocba.monitoring.tests.oracle import class_oracle, school_oracle
from hocba.records.tests.conftest import compile_4a, filled, finish  # noqa: F401 (fixture)


def test_compiled_class(filled: World) -> None:  # noqa: F811
    world = filled
    before = reports.school_report(world.own.school, world.year)
    assert (before.total.compiled, before.total.classes_locked) == (0, 0)
    finish(world)
    compile_4a(world)
    report = reports.school_report(world.own.school, world.year)
    assert (report.rows[0].figures.classes_locked, report.rows[0].figures.compiled) == (1, 3)
    assert asdict(report.rows[0].figures) == asdict(class_oracle(world.own.classes[0]))
    assert asdict(report.total) == asdict(school_oracle(world.own.school, world.year))
    statuses = {line.status_label for line in reports.class_report(world.own.classes[0]).pupils}
    assert statuses == {"Đã tổng hợp"}
