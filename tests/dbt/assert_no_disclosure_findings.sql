-- What: the attacker audit (int_disclosure__findings, scripts/p20/disclosure/attack.py) solved
-- every hidden and coded count of the protected aggregates for its smallest and largest value
-- from all published tables at once, and found none determined exactly, none pinned to its
-- group's size, no small group narrowed inside 1..(min group size - 1), no coded count narrowed
-- inside its band and no published sum with a single hidden member.
-- When it matters: a row here is a published cell that discloses a small group's size or
-- outcome; nothing may be released while it stands.
-- How to resolve: it means the protection (int_disclosure__pattern) and the audit disagree, or
-- a mart publishes a count the pattern hides: check the mart's SQL against the pattern and the
-- relations model (int_disclosure__relations).
select
    rule,
    mart,
    cell_key,
    count_name
from {{ ref('int_disclosure__findings') }}
