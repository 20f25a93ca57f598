"""A linked source's Splink model as data: the `model:` section of its configuration
(scripts/p20/linked_sources/<name>.yml; keys in docs/linkage-sources.md).

The section is Splink's own settings vocabulary (blocking rules as SQL on `l.` / `r.`,
comparisons as `output_column_name` + `comparison_levels` of `sql_condition`,
`label_for_charts`, `is_null_level`, `tf_adjustment_column` ...), plus `training`: how u, m
and the prior are estimated. `p20 link` owns only the plumbing (link_only, unique ids, which
columns it retains); every choice that changes a match probability is here, so a source's model
is changed by editing its file, and the same files give the same model (u sampled with the
configured seed, EM deterministic).
"""

from pathlib import Path

from p20.errors import UsageError

# Splink settings a source may set; the rest are p20 link's plumbing.
SETTINGS_KEYS = {
    "blocking_rules_to_generate_predictions", "comparisons", "max_iterations", "em_convergence",
}
TRAINING_KEYS = {"probability_two_random_records_match", "u_random_sampling", "em_blocking_rules"}
LEVEL_KEYS = {
    "sql_condition", "label_for_charts", "is_null_level", "tf_adjustment_column", "tf_adjustment_weight",
    "tf_minimum_u_value", "m_probability", "u_probability", "fix_m_probability", "fix_u_probability",
}
# The normalised identity columns Splink sees (p20.link: source_ids and district), by the
# identity field that fills them.
COLUMNS = {
    "first_name": "first_name", "last_name": "last_name", "birth_date": "birth_date", "gender": "gender",
    "address": "address", "high_school_code": "high_school_code", "grad_year": "grad_date",
}


def _bad(path: Path, what: str) -> UsageError:
    return UsageError(f"{path}: linked-source configuration: model: {what} (docs/linkage-sources.md)")


def _rules(path: Path, where: str, value) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(r, str) and r.strip() for r in value):
        raise _bad(path, f"{where} must be a list of SQL conditions on l. and r. columns")
    return [str(r) for r in value]


def parse_model(path: Path, body, identity_fields) -> dict:
    """The `model:` section, checked for shape (Splink checks the SQL when it runs)."""
    if not isinstance(body, dict):
        raise _bad(path, "required: a mapping with blocking_rules_to_generate_predictions, comparisons, training")
    unknown = sorted(set(body) - SETTINGS_KEYS - {"training"})
    if unknown:
        raise _bad(path, f"unknown keys {', '.join(unknown)}; known: {', '.join(sorted(SETTINGS_KEYS | {'training'}))}")
    _rules(path, "blocking_rules_to_generate_predictions", body.get("blocking_rules_to_generate_predictions"))
    comparisons = body.get("comparisons")
    if not isinstance(comparisons, list) or not comparisons:
        raise _bad(path, "comparisons must be a non-empty list")
    for i, c in enumerate(comparisons, 1):
        name = c.get("output_column_name") if isinstance(c, dict) else None
        if COLUMNS.get(name) not in identity_fields:
            raise _bad(path, f"comparison {i} compares {name!r}, which is not an identity field this source maps "
                             f"(columns: {', '.join(k for k, f in COLUMNS.items() if f in identity_fields)})")
        levels = c.get("comparison_levels")
        if not isinstance(levels, list) or len(levels) < 2 or not all(
            isinstance(lv, dict) and "sql_condition" in lv and not set(lv) - LEVEL_KEYS for lv in levels
        ):
            raise _bad(path, f"comparison {name}: comparison_levels must be two or more mappings with "
                             f"sql_condition (keys: {', '.join(sorted(LEVEL_KEYS))})")
    training = body.get("training")
    if not isinstance(training, dict) or set(training) != TRAINING_KEYS:
        raise _bad(path, f"training must give exactly {', '.join(sorted(TRAINING_KEYS))}")
    prior = training["probability_two_random_records_match"]
    if not isinstance(prior, dict) or set(prior) != {"deterministic_rules", "recall"}:
        raise _bad(path, "training.probability_two_random_records_match needs deterministic_rules and recall")
    _rules(path, "training.probability_two_random_records_match.deterministic_rules", prior["deterministic_rules"])
    u = training["u_random_sampling"]
    if not isinstance(u, dict) or set(u) != {"max_pairs", "seed"} or not isinstance(u["seed"], int):
        raise _bad(path, "training.u_random_sampling needs max_pairs and an integer seed (the same files give the same u)")
    _rules(path, "training.em_blocking_rules", training["em_blocking_rules"])
    return body


def settings(model: dict) -> dict:
    """The Splink settings (a dict SettingsCreator reads) of a model, with p20 link's plumbing."""
    body = {k: v for k, v in model.items() if k in SETTINGS_KEYS}
    return {
        **body,
        "link_type": "link_only",
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": False,
    }


def train(linker, model: dict) -> None:
    """Estimate the prior, u (random sampling, seeded) and m (EM, block by block), in that order."""
    training = model["training"]
    prior = training["probability_two_random_records_match"]
    linker.training.estimate_probability_two_random_records_match(prior["deterministic_rules"], recall=float(prior["recall"]))
    u = training["u_random_sampling"]
    linker.training.estimate_u_using_random_sampling(max_pairs=float(u["max_pairs"]), seed=int(u["seed"]))
    for rule in training["em_blocking_rules"]:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
