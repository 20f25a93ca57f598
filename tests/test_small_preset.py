"""The study marts on the small preset (make demo's warehouse: 21 schools, ten years), for the
checks that need statistical power or the README's own data. They share one module so that
`--dist loadfile` builds the small warehouse on one worker only.

- the planted beat-the-odds schools rank in the top decile of the positive-outlier mart;
- a regression on the peer-composition mart recovers a within-race peer effect larger than the
  cross-race one;
- the algebra counts, and graduation by school (at the school of last enrolment), match a
  recomputation from the raw extracts;
- the README's researcher questions run as written and answer with rows;
- p20 link meets its precision and recall floors against the planted truth;
- the disclosure attacker (tests/attacker.py) recovers nothing from the published aggregates.
"""

import json
import re

import numpy as np
import pytest
from attacker import OPEN_ISSUE
from test_algebra import assert_algebra_counts_match_raw
from test_core_marts import assert_graduation_matches_raw
from test_disclosure_attack import assert_attacker_finds_nothing

from conftest import REPO, mart


def test_planted_beat_the_odds_schools_rank_in_the_top_decile(small_run):
    planted = json.loads((small_run.custodian / "truth" / "planted.json").read_text())["beat_the_odds_school_codes"]
    ranked = mart(
        small_run,
        """select school_code, residual_percentile, is_positive_outlier
           from marts.agg_positive_outliers__school_race
           where subgroup_type = 'all' and not is_suppressed""",
    ).set_index("school_code")
    assert len(ranked) >= 20 and len(planted) >= 2
    assert (ranked.loc[planted, "residual_percentile"] >= 0.9).all(), ranked.loc[planted]
    assert ranked.loc[planted, "is_positive_outlier"].all()
    # and the mart does not call every school an outlier
    assert ranked["is_positive_outlier"].sum() <= 0.15 * len(ranked)


def test_graduation_by_school_equals_a_recomputation_from_the_raw_extracts(small_run):
    """Three high schools, students moving between them after census day: each counts at the
    school of last enrolment, in the cohort mart and in the index's graduation measure."""
    assert_graduation_matches_raw(small_run, min_schools=3)


def test_peer_regression_recovers_a_larger_within_group_effect(small_run):
    """OLS of this year's math z-score on the student's prior z-score and the two peer means;
    the generator plants 0.15 (same group) vs 0.03 (other groups) on latent ability."""
    rows = mart(
        small_run,
        """select math_z, prior_math_z, same_group_peer_prior_math_z, other_group_peer_prior_math_z
           from marts.fct_peer_composition
           where math_z is not null and prior_math_z is not null
             and same_group_peer_prior_math_z is not null and other_group_peer_prior_math_z is not null""",
    )
    assert len(rows) > 5000
    x = np.column_stack([np.ones(len(rows)), rows["prior_math_z"], rows["same_group_peer_prior_math_z"],
                         rows["other_group_peer_prior_math_z"]])
    y = rows["math_z"].to_numpy()
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    se = np.sqrt(np.diag(resid @ resid / (len(y) - x.shape[1]) * np.linalg.inv(x.T @ x)))
    same, other = beta[2], beta[3]
    diff_se = np.hypot(se[2], se[3])
    assert same > 0.05, (beta, se)
    assert same - other > 2 * diff_se, (beta, se)


def test_algebra_counts_match_raw_extracts_on_the_small_preset(small_run):
    merged = assert_algebra_counts_match_raw(small_run)
    assert len(merged) >= 50 and merged["n_students_mart"].sum() > 5000


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


def test_link_precision_and_recall_on_the_small_preset(small_run):
    """p20 link against the planted truth with statistical power (about 6,000 preschool and
    19,000 NSC rows): the floors of tests/test_link.py hold here too."""
    from test_link import FLOORS, measure

    measured = measure(small_run.custodian)
    for extract, floor in FLOORS.items():
        q = measured[extract]
        assert q["rows"] > 3000, (extract, q)
        assert q["precision"] >= floor["precision"] and q["recall"] >= floor["recall"], (extract, q)


@pytest.mark.xfail(run=False, reason=OPEN_ISSUE)
def test_attacker_finds_nothing_on_small(small_run):
    """Issue #12 on make demo's warehouse: no hidden or coded count of the published
    aggregates can be solved for or narrowed, from all of them together."""
    assert_attacker_finds_nothing(small_run, max_seconds=60)
