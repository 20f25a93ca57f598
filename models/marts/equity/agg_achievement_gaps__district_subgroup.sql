-- Achievement by subgroup over the years: share meeting the standard and mean distance from it
-- (scale points above the Standard Met cut), and each group's gap to all students.
with counts as (
    select * from {{ ref('int_achievement_gaps__counts') }}
),

pattern as (
    {{ disclosure_flags('agg_achievement_gaps__district_subgroup', ['n_students', 'n_met']) }}
),

-- what int_disclosure__pattern hides: a group (is_suppressed) or its count meeting the standard
withheld as (
    select
        counts.*,
        pattern.is_n_students_hidden as is_suppressed,
        pattern.is_n_students_hidden or pattern.is_n_met_hidden as is_met_hidden,
        pattern.is_n_met_hidden
    from counts
    inner join pattern
        on {{ disclosure_cell_key(['counts.school_year', 'counts.subject', 'counts.subgroup_type',
            'counts.subgroup_value']) }} = pattern.cell_key
),

all_students as (
    select
        school_year,
        subject,
        n_met * 1.0 / n_students as share_met,
        mean_distance_from_standard,
        is_met_hidden
    from withheld
    where subgroup_type = 'all'
),

final as (
    select
        withheld.school_year,
        withheld.subject,
        withheld.subgroup_type,
        withheld.subgroup_value,
        cast(case when not withheld.is_suppressed then withheld.n_students end as integer) as n_students,
        {{ published_pct('withheld.n_met', 'withheld.n_students', 'withheld.is_met_hidden') }} as pct_met,
        {{ coded_pct('withheld.n_met', 'withheld.n_students', 'withheld.is_n_met_hidden', 'withheld.is_suppressed') }}
            as pct_met_coded,
        case
            when not withheld.is_suppressed then round(withheld.mean_distance_from_standard, 1)
        end as mean_distance_from_standard,
        -- a gap beside the all-students share would give a hidden share away
        case
            when not withheld.is_met_hidden and not all_students.is_met_hidden
                then round(100.0 * (withheld.n_met * 1.0 / withheld.n_students - all_students.share_met), 1)
        end as pct_met_gap_to_all,
        case
            when not withheld.is_suppressed
                then round(withheld.mean_distance_from_standard - all_students.mean_distance_from_standard, 1)
        end as distance_gap_to_all,
        withheld.is_suppressed
    from withheld
    inner join all_students
        on withheld.school_year = all_students.school_year
        and withheld.subject = all_students.subject
)

select * from final
