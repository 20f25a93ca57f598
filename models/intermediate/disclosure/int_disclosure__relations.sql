-- The linear relations an outsider knows between the published counts of every protected
-- aggregate, within a table, across schools and across tables: one row per relation and member
-- count. A relation says sum(coefficient x count) = 0, or <= 0 when its sense is '<='. Relations
-- across tables are inequalities (one population nested in another) and stay inequalities where
-- the data happen to meet them exactly: that is not published, so an outsider cannot know it. A
-- declared inequality that the data do not satisfy is no relation and is left out. int_disclosure__pattern chooses
-- the hidden cells against these, and int_disclosure__findings audits the result.
{%- set algebra_key = ['school_year', 'unit_code', 'subgroup_type', 'subgroup_value'] %}
{%- set algebra_counts = ['n_students', 'n_took_algebra1', 'n_passed_algebra1', 'n_ready', 'n_ready_known'] %}
{%- set algebra_mart = "case when unit_code = 'district' then 'agg_grade8_algebra__district_subgroup'
    else 'agg_grade8_algebra__school_subgroup' end" %}
{%- set measures_key = ['school_year', 'school_code', 'reporting_group', 'measure'] %}
{%- set gaps_key = ['school_year', 'subject', 'subgroup_type', 'subgroup_value'] %}

with algebra as (
    select * from {{ ref('int_grade8_algebra__unit_counts') }}
),

measures as (
    select * from {{ ref('int_school_measures__counts') }}
),

outliers as (
    select * from {{ ref('int_positive_outliers__counts') }}
),

gaps as (
    select * from {{ ref('int_achievement_gaps__counts') }}
),

cells as (
    select * from {{ ref('int_disclosure__cells') }}
),

-- the groups of one subgroup type add up to their unit's all-students row
algebra_line_types as (
    select distinct subgroup_type as line_type
    from algebra
    where subgroup_type <> 'all'
),

algebra_types as (
    select
        algebra.*,
        algebra_line_types.line_type
    from algebra
    inner join algebra_line_types
        on algebra.subgroup_type = algebra_line_types.line_type or algebra.subgroup_type = 'all'
),

measures_groups as (
    select
        *,
        reporting_group like 'race_ethnicity:%' as is_race_group
    from measures
),

outliers_types as (
    select
        outliers.*,
        'race_ethnicity' as line_type
    from outliers
),

gaps_line_types as (
    select distinct subgroup_type as line_type
    from gaps
    where subgroup_type <> 'all'
),

gaps_types as (
    select
        gaps.*,
        gaps_line_types.line_type
    from gaps
    inner join gaps_line_types
        on gaps.subgroup_type = gaps_line_types.line_type or gaps.subgroup_type = 'all'
),

-- the members of the within-row inequalities: passed within took; a group within all
passed_within_took_members as (
    select
        1 as coefficient,
        'n_passed_algebra1' as count_name
    union all
    select
        -1 as coefficient,
        'n_took_algebra1' as count_name
),

within_all_sides as (
    select 1 as coefficient
    union all
    select -1 as coefficient
),

within_all_counts as (
    select 'n_students' as count_name
    union all
    select 'n_counted' as count_name
),

-- the school's full-academic-year tested students (fct_school_measures' ELA and math
-- proficiency) are among the district's tested ones (the achievement gaps), group by group and
-- quantity by quantity: the group's tested (n), those who met the standard (met) and those who
-- did not (not_met); and so are the rest of all students (all minus the group). A district group
-- of gaps maps to a reporting group of the measures (English learners: the ELAS codes the seed
-- marks as such)
school_tested as (
    select
        school_year,
        case when measure = 'ela_proficiency' then 'ELA' else 'MATH' end as subject,
        reporting_group,
        {{ disclosure_cell_key(measures_key) }} as cell_key
    from measures
    where measure in ('ela_proficiency', 'math_proficiency')
),

district_tested as (
    select
        gaps.school_year,
        gaps.subject,
        case
            when gaps.subgroup_type = 'all' then 'all'
            when gaps.subgroup_type = 'race_ethnicity' then 'race_ethnicity:' || gaps.subgroup_value
            when gaps.subgroup_type = 'swd' and gaps.subgroup_value = 'Y' then 'students_with_disabilities'
            when gaps.subgroup_type = 'sed' and gaps.subgroup_value = 'Y' then 'socioeconomically_disadvantaged'
            when gaps.subgroup_type = 'el_status' and elas_codes.is_english_learner then 'english_learners'
        end as reporting_group,
        {{ disclosure_cell_key(gaps_key) }} as cell_key
    from gaps
    left join {{ ref('elas_codes') }} as elas_codes
        on gaps.subgroup_type = 'el_status'
        and gaps.subgroup_value = elas_codes.elas_code
),

tested_groups as (
    select distinct
        school_year,
        subject,
        reporting_group
    from district_tested
    where reporting_group is not null
),

-- both sides of the relations: the schools' cells count plus, the district's minus
tested_cells as (
    select
        school_year,
        subject,
        reporting_group,
        cell_key,
        'fct_school_measures' as mart,
        true as is_school,
        1 as sign
    from school_tested
    union all
    select
        school_year,
        subject,
        reporting_group,
        cell_key,
        'agg_achievement_gaps__district_subgroup' as mart,
        false as is_school,
        -1 as sign
    from district_tested
),

-- a quantity as counts: the group's size (n_students), those who met (the measure's n_counted,
-- the gap's n_met), or the size minus those who met
tested_quantities as (
    select
        quantities.quantity,
        quantities.school_count,
        quantities.district_count,
        quantities.coefficient
    from (
        values
        ('n', 'n_students', 'n_students', 1),
        ('met', 'n_counted', 'n_met', 1),
        ('not_met', 'n_students', 'n_students', 1),
        ('not_met', 'n_counted', 'n_met', -1)
    ) as quantities (quantity, school_count, district_count, coefficient)
),

-- which side of a relation a member is on: `within` says the group's count of the schools is
-- at most the district's; `rest` says the same of all students minus the group
tested_sides as (
    select
        sides.side,
        sides.is_group,
        sides.sign
    from (
        values
        ('within', true, 1),
        ('rest', false, 1),
        ('rest', true, -1)
    ) as sides (side, is_group, sign)
),

tested_members as (
    select
        tested_groups.school_year,
        tested_groups.subject,
        tested_groups.reporting_group as relation_group,
        tested_sides.side,
        tested_quantities.quantity,
        tested_cells.mart,
        tested_cells.cell_key,
        case
            when tested_cells.is_school then tested_quantities.school_count else tested_quantities.district_count
        end as count_name,
        tested_cells.sign * tested_sides.sign * tested_quantities.coefficient as coefficient
    from tested_groups
    inner join tested_sides
        on tested_sides.side = 'within' or tested_groups.reporting_group <> 'all'
    inner join tested_cells
        on tested_groups.school_year = tested_cells.school_year
        and tested_groups.subject = tested_cells.subject
        and tested_cells.reporting_group
        = case when tested_sides.is_group then tested_groups.reporting_group else 'all' end
    cross join tested_quantities
),

sums as (
    {{ disclosure_sum_members('algebra_row', none, 'algebra_types', algebra_key,
        ['school_year', 'unit_code', 'line_type'], algebra_counts,
        "subgroup_type <> 'all'", "subgroup_type = 'all'", mart_column=algebra_mart) }}
    union all
    -- the schools add up to the district
    {{ disclosure_sum_members('algebra_column', none, 'algebra', algebra_key,
        ['school_year', 'subgroup_type', 'subgroup_value'], algebra_counts,
        "unit_code <> 'district'", "unit_code = 'district'", mart_column=algebra_mart) }}
    union all
    {{ disclosure_sum_members('measures_row', 'fct_school_measures', 'measures_groups', measures_key,
        ['school_year', 'school_code', 'measure'], ['n_students', 'n_counted'],
        'is_race_group', "reporting_group = 'all'") }}
    union all
    {{ disclosure_sum_members('outliers_row', 'agg_positive_outliers__school_race', 'outliers_types',
        ['school_code', 'subgroup_type', 'subgroup_value'], ['school_code', 'line_type'], ['n_students'],
        "subgroup_type <> 'all'", "subgroup_type = 'all'") }}
    union all
    {{ disclosure_sum_members('gaps_row', 'agg_achievement_gaps__district_subgroup', 'gaps_types', gaps_key,
        ['school_year', 'subject', 'line_type'], ['n_students', 'n_met'],
        "subgroup_type <> 'all'", "subgroup_type = 'all'") }}
),

-- a count is at most its denominator (took <= n, ready <= n_ready_known <= n, ...), passed at
-- most took, and a group is at most its school's all students
nested as (
    select
        'denominator|' || mart || '|' || cell_key || '|' || count_name as relation_id,
        mart,
        cell_key,
        count_name,
        1 as coefficient,
        '<=' as declared_sense
    from cells
    where denominator_name is not null
    union all
    select
        'denominator|' || mart || '|' || cell_key || '|' || count_name as relation_id,
        mart,
        cell_key,
        denominator_name as count_name,
        -1 as coefficient,
        '<=' as declared_sense
    from cells
    where denominator_name is not null
    union all
    select
        'passed_within_took|' || {{ disclosure_cell_key(algebra_key) }} as relation_id,
        {{ algebra_mart }} as mart,
        {{ disclosure_cell_key(algebra_key) }} as cell_key,
        member.count_name,
        member.coefficient,
        '<=' as declared_sense
    from algebra
    cross join passed_within_took_members as member
    union all
    -- EL, SWD and SED students are among the school's students, per measure
    select
        'within_all|' || count_names.count_name || '|' || {{ disclosure_cell_key(measures_key) }} as relation_id,
        'fct_school_measures' as mart,
        case
            when member.coefficient = 1 then {{ disclosure_cell_key(measures_key) }}
            else {{ disclosure_cell_key(['school_year', 'school_code', "'all'", 'measure']) }}
        end as cell_key,
        count_names.count_name,
        member.coefficient,
        '<=' as declared_sense
    from measures
    cross join within_all_sides as member
    cross join within_all_counts as count_names
    where measures.reporting_group in
        ('english_learners', 'students_with_disabilities', 'socioeconomically_disadvantaged')
        and (count_names.count_name = 'n_students' or measures.n_counted is not null)
),

-- across tables: the district's tested students include every school's full-academic-year
-- ones (tested_members above); the outliers' pooled test scores are the yearly ELA and math proficiency counts added
-- up ('pooled': not an LP row; protect.py hides a pooled cell whenever one of its yearly cells
-- is hidden, so the sum tells nothing of them). Left out, because they cannot narrow a small
-- group: one group size within another where both are suppressed under the same minimum
-- (grade-8 algebra students among the hs_readiness eighth graders, a measure's students among
-- the group's): a shown outer size is at least the minimum, above any small inner one, and a
-- small outer size makes the inner one small and hidden too.
across as (
    select
        'outliers_pooled|' || {{ disclosure_cell_key(['school_code', 'subgroup_type', 'subgroup_value']) }}
            as relation_id,
        'agg_positive_outliers__school_race' as mart,
        {{ disclosure_cell_key(['school_code', 'subgroup_type', 'subgroup_value']) }} as cell_key,
        'n_students' as count_name,
        -1 as coefficient,
        'pooled' as declared_sense
    from outliers
    union all
    select
        'outliers_pooled|' || {{ disclosure_cell_key(['school_code', 'subgroup_type', 'subgroup_value']) }}
            as relation_id,
        'fct_school_measures' as mart,
        {{ disclosure_cell_key(measures_key) }} as cell_key,
        'n_students' as count_name,
        1 as coefficient,
        'pooled' as declared_sense
    from (
        select
            *,
            case when reporting_group = 'all' then 'all' else 'race_ethnicity' end as subgroup_type,
            case when reporting_group = 'all' then 'all' else substr(reporting_group, 16) end as subgroup_value
        from measures
        where measure in ('ela_proficiency', 'math_proficiency')
            and (reporting_group = 'all' or reporting_group like 'race_ethnicity:%')
    ) as yearly
    union all
    select
        'tested_in_district|' || quantity || '|' || side || '|' || school_year || '|' || subject || '|'
        || relation_group as relation_id,
        mart,
        cell_key,
        count_name,
        sum(coefficient) as coefficient,
        '<=' as declared_sense
    from tested_members
    group by all
    having sum(coefficient) <> 0
),

members as (
    select * from sums
    union all
    select * from nested
    union all
    select * from across
),

valued as (
    select
        members.*,
        cells.variable_id,
        cells.count_value,
        sum(members.coefficient * cells.count_value) over (partition by members.relation_id) as slack,
        count(*) over (partition by members.relation_id) as n_members,
        count(cells.count_value) over (partition by members.relation_id) as n_members_known
    from members
    left join cells
        on members.mart = cells.mart
        and members.cell_key = cells.cell_key
        and members.count_name = cells.count_name
),

final as (
    select
        relation_id,
        dense_rank() over (order by relation_id) - 1 as relation_number,
        variable_id,
        mart,
        cell_key,
        count_name,
        coefficient,
        declared_sense as sense
    from valued
    -- a relation whose members all exist (a measure with no students has no row) and that the
    -- data satisfy
    where n_members = n_members_known
        and (slack = 0 or (declared_sense in ('<=', 'pooled') and slack < 0))
)

select * from final
