"""The README's researcher questions run as written against the demo warehouse (small preset)
and answer with rows, so the examples cannot rot as the marts change."""

import re

import pytest

from conftest import REPO, mart

pytestmark = pytest.mark.xdist_group("small")


def researcher_queries() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## For researchers", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sql\n(.*?)```", section, flags=re.S)


def test_the_readme_has_five_questions():
    assert len(researcher_queries()) == 5


@pytest.mark.parametrize("number", range(5))
def test_readme_question_answers(small_run, number):
    query = researcher_queries()[number]
    rows = mart(small_run, query)
    assert len(rows) > 0, query.splitlines()[0]
